import { Deduplicator, type DeduplicatorOptions } from '../dedup/deduplicator.js';
import { InvalidOptionError } from '../errors.js';
import { type BusEvent, EVENT_DEFAULTS } from '../event.js';
import { RateLimiter, type RateLimiterLike, type RateLimiterOptions } from '../limit/rate-limiter.js';
import { optionsObject, positiveInteger } from '../option-checks.js';
import { DEFAULT_MATCH_CACHE_SIZE } from '../pattern/subscription-index.js';
import { tickClock } from '../publish/tick-clock.js';
import type { StandardSchemaV1 } from '../schema/standard-schema.js';
import type { EventStore } from '../store/event-store.js';
import { MemoryEventStore } from '../store/memory/memory-event-store.js';
import type { BusTelemetry } from '../telemetry/bus-telemetry.js';
import { createErrorLogger } from './error-logger.js';
import type { AnyEventOf, EventMap } from './typed-events.js';

/** Where a failure reported to `onError` happened. */
export interface ErrorContext<Events extends EventMap = EventMap> {
  /**
   * `handler`: an `on()` handler threw or rejected; `filter`: a filter threw; `subscription`:
   * an iterator failed (overflow, replay); `feed`: the shared store's live feed failed and is
   * being restarted; `telemetry`: a hook of the `telemetry` option threw (the publish or the
   * delivery went on).
   */
  source: 'handler' | 'filter' | 'subscription' | 'feed' | 'telemetry';
  /** The patterns of the subscription involved. */
  patterns: readonly string[];
  /**
   * The event being delivered, when there was one: typed as any event of the bus's map (an
   * event from another process on a shared store may still carry a type the map lacks).
   */
  event?: AnyEventOf<Events>;
}

/**
 * Per-type validators: each one's output must be the `data` of its type. With no type
 * argument on `new EventBus`, the bus's Events map is inferred from them.
 */
export type EventSchemas<Events extends EventMap> = {
  [K in keyof Events]?: StandardSchemaV1<unknown, Events[K]>;
};

export interface EventBusOptions<Events extends EventMap = EventMap> {
  /**
   * Where events are kept for replay. `null` = pure pub/sub: no history, `subscribe` only
   * `from: 'now'`, and `cursor` equals the event id. A store you pass in stays yours:
   * `bus.close()` closes only the default store it made.
   * @default new MemoryEventStore()
   */
  store?: EventStore | null;
  /**
   * Duplicate detection by event id (rotating bloom filters, confirmed exactly before
   * anything is dropped). Pass options, your own Deduplicator, or `false` to turn it off.
   * @default { windowMs: 5000, expectedEvents: 10_000, falsePositiveRate: 0.01 }
   */
  dedup?: DeduplicatorOptions | Deduplicator | false;
  /** Token-bucket rate limit per key (see `rateLimitKey`). @default false (off) */
  rateLimit?: RateLimiterOptions | RateLimiterLike | false;
  /** The rate-limit key of an event. @default (event) => event.stream */
  rateLimitKey?: (event: BusEvent) => string;
  /**
   * Per-type validators (zod or any Standard Schema); a mismatch rejects with `SCHEMA_MISMATCH`.
   * `new EventBus({ schemas })` with no type argument infers the Events map from their outputs;
   * with an explicit map, a schema whose output is not the type's `data` is a compile error.
   */
  schemas?: EventSchemas<Events>;
  /** Largest serialized envelope (UTF-8 JSON bytes). @default 65536 */
  maxEventBytes?: number;
  /**
   * Receives every handler, filter and iterator failure; publish never fails because of them.
   * @default logs with console.error: one line per distinct failure, repeats counted (see error-logger.ts)
   */
  onError?: (error: unknown, context: ErrorContext<NoInfer<Events>>) => void;
  /** Time source for `event.time` and ids; inject a fake clock in tests. @default Date.now */
  clock?: () => number;
  /**
   * Traces and measures publishes and deliveries: `openTelemetry()` from `busline/otel`, or any
   * `BusTelemetry`. Without it nothing is traced, measured or added to events. See docs/observability.md.
   */
  telemetry?: BusTelemetry;
  /** Event types whose subscriber lists are cached. @default 1024 */
  matchCacheSize?: number;
  /**
   * Most store reads this bus's replays and catch-ups run at once; more wait their turn. It
   * bounds the load a crowd of resuming clients (SSE reconnects) puts on the store. @default 16
   */
  maxConcurrentReads?: number;
  /**
   * With a store shared between processes (one with `tail`): how long `publish` waits for its
   * event to come back through the live feed and reach local subscribers. Past it, publish
   * resolves anyway (the event is stored) with `deliveredTo: 0`; and how long it waits for the
   * feed to be positioned before rejecting with `StoreUnavailableError`. @default 5000
   */
  feedTimeoutMs?: number;
}

export interface ResolvedBusOptions {
  feedTimeoutMs: number;
  store: EventStore | null;
  /** True when the bus made the store (the default memory store): only then does `close()` close it. */
  ownsStore: boolean;
  dedup: Deduplicator | null;
  /** True when the bus made the deduplicator on its own clock: the bus may hand it the time it read. */
  dedupOnBusClock: boolean;
  limiter: RateLimiterLike | null;
  /** True when the bus made the limiter (a `RateLimiter`) on its own clock. */
  limiterOnBusClock: boolean;
  limitKey: (event: BusEvent) => string;
  schemas: Map<string, StandardSchemaV1>;
  maxEventBytes: number;
  onError: (error: unknown, context: ErrorContext) => void;
  clock: () => number;
  telemetry: BusTelemetry | undefined;
  /** What stamps `event.time`: `clock`, or with the default clock one reading per few stamps (see tickClock). */
  stampClock: () => number;
  matchCacheSize: number;
  maxConcurrentReads: number;
}

export const BUS_DEFAULTS = {
  maxEventBytes: EVENT_DEFAULTS.maxEventBytes,
  matchCacheSize: DEFAULT_MATCH_CACHE_SIZE,
  feedTimeoutMs: 5000,
  maxConcurrentReads: 16,
} as const;

/** Applies defaults and rejects impossible values up front, naming the option and the value. */
export function resolveBusOptions(options: EventBusOptions<EventMap>): ResolvedBusOptions {
  optionsObject('EventBus', options);
  const store = options.store === undefined ? new MemoryEventStore() : options.store;
  if (store !== null && (typeof store.append !== 'function' || typeof store.read !== 'function')) {
    throw new InvalidOptionError('Expected `store` to be an EventStore (append, read, stats, close) or null');
  }
  const schemas = new Map<string, StandardSchemaV1>();
  for (const [type, schema] of Object.entries(options.schemas ?? {})) {
    if (schema === undefined) continue;
    if (typeof (schema as Partial<StandardSchemaV1> | null)?.['~standard']?.validate !== 'function') {
      throw new InvalidOptionError(`Expected \`schemas["${type}"]\` to be a Standard Schema (zod, valibot…)`);
    }
    schemas.set(type, schema);
  }
  for (const [name, fn] of [
    ['onError', options.onError],
    ['clock', options.clock],
  ] as const) {
    if (fn !== undefined && typeof fn !== 'function') {
      throw new InvalidOptionError(`Expected \`${name}\` to be a function, got ${typeof fn}`);
    }
  }
  const clock = options.clock ?? Date.now;
  if (options.rateLimitKey !== undefined && typeof options.rateLimitKey !== 'function') {
    throw new InvalidOptionError('Expected `rateLimitKey` to be a function of the event');
  }
  if ((options as { handlerConcurrency?: unknown }).handlerConcurrency !== undefined) {
    // Removed in 0.2: one bus-wide pool let one slow handler delay all the others.
    throw new InvalidOptionError(
      'The `handlerConcurrency` option was removed: each `on()` subscription has its own queue; pass `{ concurrency }` to `on()`',
    );
  }
  return {
    ownsStore: options.store === undefined,
    feedTimeoutMs: positiveInteger('feedTimeoutMs', options.feedTimeoutMs, BUS_DEFAULTS.feedTimeoutMs),
    store,
    dedup: resolveDedup(options.dedup, clock),
    dedupOnBusClock:
      options.dedup === undefined ||
      (optionsWithoutClock(options.dedup) && !(options.dedup instanceof Deduplicator)),
    limiter: resolveLimiter(options.rateLimit, clock),
    limiterOnBusClock:
      optionsWithoutClock(options.rateLimit) &&
      typeof (options.rateLimit as Partial<RateLimiterLike>).tryTake !== 'function',
    limitKey: options.rateLimitKey ?? streamOf,
    schemas,
    maxEventBytes: positiveInteger('maxEventBytes', options.maxEventBytes, BUS_DEFAULTS.maxEventBytes),
    onError: options.onError ?? createErrorLogger(),
    clock,
    stampClock: options.clock ?? tickClock(clock),
    telemetry: resolveTelemetry(options.telemetry),
    matchCacheSize: positiveInteger('matchCacheSize', options.matchCacheSize, BUS_DEFAULTS.matchCacheSize),
    maxConcurrentReads: positiveInteger(
      'maxConcurrentReads',
      options.maxConcurrentReads,
      BUS_DEFAULTS.maxConcurrentReads,
    ),
  };
}

/** An options object that brings no clock: the bus builds its component on the bus clock. */
function optionsWithoutClock(options: unknown): boolean {
  return (
    options !== null && typeof options === 'object' && (options as { clock?: unknown }).clock === undefined
  );
}

function streamOf(event: BusEvent): string {
  return event.stream;
}

function resolveTelemetry(telemetry: unknown): BusTelemetry | undefined {
  if (telemetry === undefined) return undefined;
  optionsObject('telemetry', telemetry as object);
  for (const hook of ['publish', 'process', 'attach'] as const) {
    const fn = (telemetry as Record<string, unknown>)[hook];
    if (fn !== undefined && typeof fn !== 'function') {
      throw new InvalidOptionError(`Expected \`telemetry.${hook}\` to be a function, got ${typeof fn}`);
    }
  }
  return telemetry as BusTelemetry;
}

/** Dedup is on unless `false`; the bus clock drives it unless the options bring their own. */
function resolveDedup(dedup: EventBusOptions['dedup'], clock: () => number): Deduplicator | null {
  if (dedup === false) return null;
  if (dedup instanceof Deduplicator) return dedup;
  if (dedup !== undefined && (dedup === null || typeof dedup !== 'object')) {
    throw new InvalidOptionError('Expected `dedup` to be Deduplicator options, a Deduplicator or false');
  }
  return new Deduplicator({ clock, ...dedup });
}

function resolveLimiter(
  rateLimit: EventBusOptions['rateLimit'],
  clock: () => number,
): RateLimiterLike | null {
  if (rateLimit === undefined || rateLimit === false) return null;
  if (rateLimit === null || typeof rateLimit !== 'object') {
    throw new InvalidOptionError('Expected `rateLimit` to be RateLimiter options, a rate limiter or false');
  }
  if (typeof (rateLimit as Partial<RateLimiterLike>).tryTake === 'function')
    return rateLimit as RateLimiterLike;
  return new RateLimiter({ clock, ...(rateLimit as RateLimiterOptions) });
}
