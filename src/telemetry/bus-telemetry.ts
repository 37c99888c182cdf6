/**
 * The telemetry port: what a bus tells a tracer or a meter, with no dependency on either.
 * `busline/otel` implements it with OpenTelemetry; anything else can too (a test recorder, a
 * StatsD client). Every member is optional, and a bus without `telemetry` never calls,
 * allocates or adds anything for it: the checks are made once, when a subscription or a
 * publish starts, never per matched subscriber.
 */
import type { StoredEvent } from '../event.js';

/** How a publish ended, per event, as `publish` and `publishBatch` resolve. */
export interface PublishOutcome {
  id: string;
  status: 'delivered' | 'duplicate' | 'rate_limited';
}

/** One `publish` (one event) or `publishBatch` (several), from before stamping to its result. */
export interface PublishScope {
  /**
   * Called once per event, stamped (id, time) but not yet size-checked or stored. Returns meta
   * keys to add to the event (its trace context: `traceparent`, `tracestate`), or undefined.
   * They are stored and delivered with it, and count toward `maxEventBytes`.
   */
  inject?(event: StoredEvent): Readonly<Record<string, string>> | undefined;
  /** The publish resolved (`outcomes`, in input order) or rejected (`error`). Called once. */
  end(outcomes: readonly PublishOutcome[] | undefined, error?: unknown): void;
}

/** The call a subscription or a consumer-group delivery is about to make. */
export interface ProcessStart {
  event: StoredEvent;
  /** `handler`: an `on()` or `once()` handler; `group`: a consumer-group delivery. */
  kind: 'handler' | 'group';
  /** The subscription's patterns (for `handler`) or the consumer's (for `group`). */
  patterns: readonly string[];
  /** The consumer group (for `group`). */
  group?: string;
  /** This delivery's number, the first is 1 (for `group`). */
  deliveries?: number;
}

/**
 * How a processing call ended. `ok`: the handler returned or resolved (for a group, the
 * event is acknowledged). `error`: it threw or rejected; for a group, `disposition` says what
 * happens to the event next (`retry` later, or `dead_letter` after its last delivery).
 */
export type ProcessOutcome =
  | { status: 'ok' }
  | { status: 'error'; error: unknown; disposition?: 'retry' | 'dead_letter' };

export interface ProcessScope {
  /** Makes the call, e.g. inside a span's context so that spans the handler starts are its children. */
  run<T>(call: () => T): T;
  /** Called once, when the call settled. */
  end(outcome: ProcessOutcome): void;
}

/** What a bus lets its telemetry read whenever it likes (observable gauges). */
export interface TelemetrySource {
  stats(): import('../bus/bus-stats.js').BusStats;
  /** `bus.health()`: groups' pending and dead-letter counts, the shared feed's lag (asks the store). */
  health(): Promise<import('../bus/bus-health.js').BusHealth>;
}

/** The `telemetry` option of `EventBus`. */
export interface BusTelemetry {
  /** A publish starts. `batch`: from `publishBatch` (with `count` events), else one `publish`. */
  publish?(start: { batch: boolean; count: number }): PublishScope | undefined;
  /** A handler call or a consumer-group delivery starts. */
  process?(start: ProcessStart): ProcessScope | undefined;
  /**
   * Called once, when the bus is built. May return a function the bus calls when it has
   * closed, so that a telemetry shared by many buses lets the closed ones go.
   */
  // biome-ignore lint/suspicious/noConfusingVoidType: an attach that returns nothing is the common case
  attach?(source: TelemetrySource): (() => void) | void;
}
