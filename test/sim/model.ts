import type { Invariant } from './flags.js';
import type { Consumer, EventBus, OnLimit, StoredEvent, Subscription } from './lib.js';
import type { Scheduler } from './scheduler.js';

/**
 * What happened in a run, as the actors saw it: the checker compares this with the store's
 * log (SimStore.log, the ground truth) after the run.
 */

/**
 * How a bus sees the store: shared (with or without `has`), a memory store of its own with no
 * tail (`private`: events are delivered as they are published), or none (`store: null`).
 */
export type StoreKind = 'shared' | 'shared-no-has' | 'private' | 'none';

/** A bus's rate limiter, as configured. */
export interface LimiterPlan {
  onLimit: OnLimit;
  rate: number;
  intervalMs: number;
  burst: number;
  maxWaiting: number;
}

export interface BusRecord {
  index: number;
  bus: EventBus;
  store: StoreKind;
  limiter: LimiterPlan | undefined;
  createdOrdinal: number;
  /** When `await bus.ready()` first resolved: from then on the bus counts as connected. */
  readyOrdinal: number | undefined;
  /**
   * Times the bus's feed lost its place (HISTORY_TRUNCATED) and was placed again (`ready()`
   * resolved anew): a subscription made in between counts as connected from `placedOrdinal`.
   */
  gaps: { lostOrdinal: number; lostAt: number; placedOrdinal: number | undefined }[];
  /** Errors given to onError, with when. */
  errors: { ordinal: number; code: string | undefined; source: string; message: string }[];
  /** Handler subscriptions ever made on this bus (for the queue bound). */
  handlerSubs: SubRecord[];
  /** `once()` waits made on this bus: user subscriptions while pending. */
  onces: OnceRecord[];
  /** Consumers (`bus.consume`) started on this bus. */
  consumers: ConsumerRecord[];
  closeCalled: boolean;
}

export interface OnceRecord {
  pattern: string;
  registeredOrdinal: number;
  settledOrdinal: number | undefined;
}

/** One handler call, for latency and for calls after unsubscribing. */
export interface HandlerCall {
  id: string;
  cursor: string;
  startAt: number;
  endAt: number | undefined;
}

export interface ConsumerRecord {
  key: string;
  bus: number;
  group: string;
  pattern: string;
  behavior: string;
  maxDeliveries: number;
  ackTimeoutMs: number;
  concurrency: number;
  consumer: Consumer | undefined;
  /** When consume() resolved: events stored after it are the group's to handle. */
  resolvedOrdinal: number | undefined;
  calls: GroupCall[];
}

/** One consumer-group handler call and how it ended ('hung': never settled, past ackTimeoutMs). */
export interface GroupCall {
  id: string;
  /** Keyed by cursor: retention may let one id be stored twice. */
  cursor: string;
  deliveries: number;
  startAt: number;
  outcome: 'ok' | 'failed' | 'hung';
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
  /** The handler's behavior (sync, fast, slow…) or the reader's mode (fast, slow, pause, stop). */
  behavior: string;
  /** The iterator's overflow option as given. */
  overflow: 'block' | 'drop-oldest' | 'drop-newest' | 'error' | undefined;
  /** Handler calls, in the order they started. */
  calls: HandlerCall[];
  patterns: string[];
  stream: string | undefined;
  /** The subscription's `filter` option, when it has one (the model applies the same one). */
  filter: ((event: StoredEvent) => boolean) | undefined;
  start: SubStart;
  registeredOrdinal: number;
  registeredAt: number;
  /** For 'start': the seq below which the store had already trimmed when it subscribed. */
  trimmedAtStart: number;
  delivered: Delivery[];
  /** Truncation reported to this subscription: an iterator error or an inline HistoryTruncated value. */
  truncations: { ordinal: number; how: 'error' | 'value' }[];
  /** The subscription stopped (close, return, abort, unsubscribe, error, bus close). */
  endedOrdinal: number | undefined;
  endedAt: number | undefined;
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
  results: { id: string; status: string; cursor: string | undefined; deliveredTo: number }[] | undefined;
  error: unknown;
  /** The `data` objects this attempt sent: the store's append calls name their publish by them. */
  data: object[];
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
