import type { EventBus, StoredEvent, Subscription } from '../lib.js';

/**
 * What one run against the real Redis recorded, as the actors saw it. The checker
 * (redis-check.ts) compares it with the store's own log, read back after the run.
 *
 * Order between actors is kept with `seq`, a counter every recorded action takes a number from
 * (real timers: there is no virtual clock to order them by).
 */

export type Start = 'now' | 'start' | { after: string };

export interface SimEvent {
  id: string;
  type: string;
  stream: string;
  data: { n: number };
}

export interface Delivery {
  cursor: string;
  id: string;
  type: string;
  stream: string;
  n: number;
  seq: number;
}

export interface SubRecord {
  key: string;
  bus: number;
  kind: 'handler' | 'iterator';
  pattern: string;
  stream: string | undefined;
  filter: ((event: { data: unknown }) => boolean) | undefined;
  start: Start;
  registeredSeq: number;
  /**
   * For live subscriptions: the newest cursor of the log, read after the subscription was
   * registered and `await bus.ready()` then resolved (`null`: the log was empty). Every matching
   * event after it is owed. `undefined`: never read (the run ended first): nothing is owed live.
   */
  fence: string | null | undefined;
  delivered: Delivery[];
  /** HISTORY_TRUNCATED told to this iterator (error or inline value), with the last cursor it had then. */
  truncations: { seq: number; how: 'error' | 'value'; position: string | undefined }[];
  endedSeq: number | undefined;
  endReason: string | undefined;
  bufferSize: number;
  concurrency: number;
  maxPending: number;
  subscription: Subscription<unknown> | undefined;
  /** The reader loop (iterators): settles once the iteration is over. */
  reader: Promise<void> | undefined;
  /** Handler behaviour or reader pace, for reports. */
  behavior: string;
}

export interface PublishRecord {
  key: string;
  bus: number;
  events: SimEvent[];
  batch: boolean;
  calledSeq: number;
  startedAt: number;
  settledAt: number | undefined;
  settledSeq: number | undefined;
  results: { id: string; status: string; cursor: string | undefined }[] | undefined;
  error: unknown;
}

export interface BusRecord {
  index: number;
  name: string;
  bus: EventBus;
  errors: {
    seq: number;
    code: string | undefined;
    source: string;
    patterns: readonly string[];
    message: string;
  }[];
  handlerSubs: SubRecord[];
  readyAt: number | undefined;
}

export interface Violation {
  invariant: string;
  detail: string;
}

/** A promise the contract says settles, within `boundMs`. */
export interface TrackedWait {
  label: string;
  invariant: string;
  boundMs: number;
  startedAt: number;
  settledAt: number | undefined;
}

export interface FaultRecord {
  at: number;
  what: string;
}

export class RunModel {
  readonly buses: BusRecord[] = [];
  readonly subs: SubRecord[] = [];
  readonly publishes: PublishRecord[] = [];
  readonly waits: TrackedWait[] = [];
  readonly violations: Violation[] = [];
  readonly faults: FaultRecord[] = [];
  readonly unhandled: unknown[] = [];
  /** Every event a publisher tried to publish, by id (retries and duplicates reuse them). */
  readonly attempted = new Map<string, SimEvent>();
  /** Cursors of acknowledged publishes before a `kill -9`, and what the log held right after the restart. */
  readonly kills: { ackedBefore: Set<string>; missingAfterRestart: string[] }[] = [];
  seq = 0;
  readonly #t0 = performance.now();

  /** Milliseconds since the run started. */
  now(): number {
    return Math.round(performance.now() - this.#t0);
  }

  tick(): number {
    return ++this.seq;
  }

  violate(invariant: string, detail: string): void {
    this.violations.push({ invariant, detail });
  }

  /** Follows a promise that must settle within `boundMs` (checked after the run). */
  track<T>(label: string, promise: Promise<T>, boundMs: number, invariant = 'waits-settle'): Promise<T> {
    const wait: TrackedWait = { label, invariant, boundMs, startedAt: this.now(), settledAt: undefined };
    this.waits.push(wait);
    const settle = () => {
      wait.settledAt = this.now();
    };
    promise.then(settle, settle);
    return promise;
  }
}

export const code = (error: unknown): string | undefined =>
  (error as { code?: string } | null)?.code ?? undefined;

export const describeError = (error: unknown): string =>
  `${(error as Error)?.name ?? 'Error'}${code(error) ? `[${code(error)}]` : ''}: ${(error as Error)?.message ?? String(error)}`;

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export type { StoredEvent };
