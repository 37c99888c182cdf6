import type { Invariant } from './flags.js';
import type { EventBus, StoredEvent, Subscription } from './lib.js';
import type { Scheduler } from './scheduler.js';

/**
 * What happened in a run, as the actors saw it: the checker compares this with the store's
 * log (SimStore.log, the ground truth) after the run.
 */

export interface BusRecord {
  index: number;
  bus: EventBus;
  createdOrdinal: number;
  /** When `await bus.ready()` first resolved: from then on the bus counts as connected. */
  readyOrdinal: number | undefined;
  /**
   * Times the bus's feed lost its place (HISTORY_TRUNCATED) and was placed again (`ready()`
   * resolved anew): a subscription made in between counts as connected from `placedOrdinal`.
   */
  gaps: { lostOrdinal: number; placedOrdinal: number | undefined }[];
  /** Errors given to onError, with when. */
  errors: { ordinal: number; code: string | undefined; source: string; message: string }[];
  /** Handler subscriptions ever made on this bus (for the queue bound). */
  handlerSubs: SubRecord[];
  closeCalled: boolean;
}

export interface Delivery {
  cursor: string;
  id: string;
  type: string;
  stream: string;
  ordinal: number;
}

export type SubStart = 'now' | 'start' | { after: string };

export interface SubRecord {
  key: string;
  bus: number;
  kind: 'handler' | 'iterator';
  patterns: string[];
  stream: string | undefined;
  /** The subscription's `filter` option, when it has one (the model applies the same one). */
  filter: ((event: StoredEvent) => boolean) | undefined;
  start: SubStart;
  registeredOrdinal: number;
  /** For 'start': the seq below which the store had already trimmed when it subscribed. */
  trimmedAtStart: number;
  delivered: Delivery[];
  /** Truncation reported to this subscription: an iterator error or an inline HistoryTruncated value. */
  truncations: { ordinal: number; how: 'error' | 'value' }[];
  /** The subscription stopped (close, return, abort, unsubscribe, error, bus close). */
  endedOrdinal: number | undefined;
  endReason: string | undefined;
  /** False once the user's side stopped consuming (stopped reader, never-resolving handler). */
  healthy: boolean;
  onTruncated: 'throw' | 'signal' | undefined;
  bufferSize: number;
  /** For handlers: their queue options. */
  concurrency: number;
  maxPending: number;
  subscription: Subscription<unknown> | undefined;
  /** The iterator's reader loop is running (it drives next()). */
  reading: boolean;
}

export interface PublishRecord {
  key: string;
  bus: number;
  ids: string[];
  types: string[];
  streams: string[];
  batch: boolean;
  calledOrdinal: number;
  calledAt: number;
  settledOrdinal: number | undefined;
  results: { id: string; status: string; cursor: string | undefined }[] | undefined;
  error: unknown;
}

export interface Violation {
  invariant: Invariant;
  detail: string;
}

/** A promise the run waits on: it must settle by the end, and within `boundMs` when given. */
export interface TrackedWait {
  label: string;
  invariant: Invariant;
  startedAt: number;
  boundMs: number | undefined;
  settledAt: number | undefined;
  outcome: 'resolved' | 'rejected' | undefined;
  error: unknown;
  /** Unsettled at the end: reported under this invariant (e.g. close with a stuck handler). */
  hangInvariant: Invariant;
}

export class Model {
  readonly buses: BusRecord[] = [];
  readonly subs: SubRecord[] = [];
  readonly publishes: PublishRecord[] = [];
  readonly waits: TrackedWait[] = [];
  readonly violations: Violation[] = [];
  readonly unhandled: unknown[] = [];
  readonly #sched: Scheduler;
  /** Only these are recorded: a run can check a subset (SimConfig.invariants). */
  readonly #checked: ReadonlySet<Invariant>;

  constructor(sched: Scheduler, checked: ReadonlySet<Invariant>) {
    this.#sched = sched;
    this.#checked = checked;
  }

  violate(invariant: Invariant, detail: string): void {
    if (!this.#checked.has(invariant)) return;
    this.violations.push({ invariant, detail });
    this.#sched.log(`VIOLATION ${invariant}: ${detail}`);
  }

  /** Follows a promise the contract says must settle (boundMs: within that much virtual time). */
  track<T>(
    label: string,
    promise: Promise<T>,
    options: { boundMs?: number; invariant?: Invariant; hangInvariant?: Invariant } = {},
  ): Promise<T> {
    const wait: TrackedWait = {
      label,
      invariant: options.invariant ?? 'waits-settle',
      hangInvariant: options.hangInvariant ?? 'waits-settle',
      startedAt: this.#sched.now,
      boundMs: options.boundMs,
      settledAt: undefined,
      outcome: undefined,
      error: undefined,
    };
    this.waits.push(wait);
    promise.then(
      () => {
        wait.settledAt = this.#sched.now;
        wait.outcome = 'resolved';
      },
      (error: unknown) => {
        wait.settledAt = this.#sched.now;
        wait.outcome = 'rejected';
        wait.error = error;
      },
    );
    return promise;
  }
}
