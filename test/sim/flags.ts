/**
 * What a run injects and what it checks, as data: a test turns fault kinds, actor kinds and
 * invariants on or off without touching the harness.
 */

/** Faults the simulated shared store injects. */
export interface FaultFlags {
  /** Each tail carries events a random lag after they were stored. */
  feedLag: boolean;
  /** Tails stall, then release everything at once; and yield what is ready without a pause. */
  feedBursts: boolean;
  /** The append's reply comes long after its events are visible to tails and reads. */
  slowAppendReply: boolean;
  /** An append fails: nothing stored, the promise rejects. */
  appendFails: boolean;
  /** An append times out yet applies: the promise rejects, the events are stored. */
  appendTimeoutApplied: boolean;
  /** A tail connection drops: its iterator throws; the bus must restart it from its last cursor. */
  tailDrops: boolean;
  /** Retention removes the oldest events; reads and tails past them report truncation. */
  retentionTrims: boolean;
  /** Reads take their snapshot at a random moment between call and reply, racing appends. */
  readRaces: boolean;
  /** Windows in which the store is unreachable: calls fail fast, or hang until the window ends. */
  outages: boolean;
  /**
   * Some appends and reads are answered in the turn they are made, as an in-process store
   * answers: no timer between a publish and the next, or between a read and what follows it.
   */
  instantReplies: boolean;
}

/** What the actors do besides the plain cases. */
export interface ActorFlags {
  slowHandlers: boolean;
  failingHandlers: boolean;
  /** Handlers whose promise never settles (their subscription is then stuck, by the user's doing). */
  neverResolvingHandlers: boolean;
  slowReaders: boolean;
  /** Readers that pause for a while, or stop reading for good. */
  stallingReaders: boolean;
  /** Iterators that end (close, return, abort) and re-subscribe from their last cursor. */
  resubscribes: boolean;
  /** Iterators resuming from an arbitrary stored cursor, trimmed ones included. */
  resumeFromCursor: boolean;
  duplicateIds: boolean;
  batches: boolean;
  /** `once()` waits with a timeout. */
  once: boolean;
  /** Buses with `store: null` (pure pub/sub: overflow policies and backpressure instead of catch-up). */
  noStoreBuses: boolean;
  /** Buses that see the shared store without `has` (the gate confirms bloom positives itself). */
  storesWithoutHas: boolean;
  /** Buses with a rate limiter: `drop`, `throw`, or `delay` with few waiters allowed. */
  rateLimits: boolean;
  /** Consumer groups (`bus.consume`) whose handlers succeed, fail, or hang past ackTimeoutMs. */
  consumerGroups: boolean;
  /** Bursts of 40–130 events at once (one batch, or publishes nobody awaits). */
  bursts: boolean;
  /** On a bus without a store: over 1,000 events across over 1,000 streams, fired at a stalled reader. */
  floods: boolean;
  /**
   * Publishers that publish again as soon as their last publish settled, in the same turn (a
   * loop of awaited publishes: no timer between them). Found a replay losing an event at its
   * hand-over to live, which timer-spaced publishes never staged.
   */
  backToBack: boolean;
  /**
   * Buses with a memory store of their own and no tail, as `new EventBus()` has: delivery at
   * publish time, replay and catch-up from that store. Half use the bus's synchronous fast path
   * into the memory store, half the async port (a tail-less store of the user's own).
   */
  privateStores: boolean;
}

export const INVARIANTS = [
  /** A publish resolved 'delivered' names a cursor the store holds for its id. */
  'publish-ack-stored',
  /** A 'duplicate' result carries the cursor of the original (with a store). */
  'duplicate-carries-cursor',
  /** An id counts as seen only once stored (without a store: delivered): 'duplicate' only then. */
  'id-seen-only-once-stored',
  /** Every delivered event is a stored (without a store: published) event matching the subscription. */
  'no-phantom-delivery',
  /** No subscription gets one stored event (without a store: one id) twice. */
  'no-duplicate-delivery',
  /** Without a store (no idempotent append behind it), publish() calls of one id deliver it once, however they overlap. */
  'id-delivered-once',
  /** The same when one of them is a publishBatch (apart, so a known publishBatch defect masks nothing else). */
  'batch-id-delivered-once',
  /** Per stream, a subscription sees events in cursor order. */
  'stream-order',
  /** A live subscription (on, subscribe 'now') gets every matching event stored after it was connected. */
  'live-no-gap',
  /** A replay ('start', {after}) yields every matching stored event after its start, then live. */
  'resume-no-gap',
  /** A missed event the store trimmed is reported (HISTORY_TRUNCATED), never skipped silently. */
  'no-silent-truncation',
  /** HISTORY_TRUNCATED only when the subscription really lost a trimmed event. */
  'no-spurious-truncation',
  /** Without onTruncated, truncation ends the loop with an error (default 'throw'), no inline value. */
  'on-truncated-default-throw',
  /** An iterator's buffered count never exceeds its bufferSize. */
  'buffer-bounded',
  /** A bus's pending handler calls stay within the sum of its subscriptions' concurrency + maxPending. */
  'handler-queue-bounded',
  /** ready() settles (resolves or rejects STORE_UNAVAILABLE) within feedTimeoutMs. */
  'ready-bounded',
  /** A publish settles within a bound derived from feedTimeoutMs and the store's own delays. */
  'publish-bounded',
  /** A publish whose signal aborts settles at once (a blocked publish, a `delay` limit, a wait for the same id). */
  'publish-cancellable',
  /** once({ timeoutMs }) settles within timeoutMs. */
  'once-bounded',
  /** After close, nothing stays pending: publishes, ready(), close(), next(), once(). */
  'waits-settle',
  /** bus.close() settles even while a handler never resolves (the contract is ambiguous here). */
  'close-with-stuck-handler',
  /** Rejections the bus produces are BuslineErrors with a stable code. */
  'typed-errors',
  /** A bus never closes a store it was given (the caller owns it). */
  'passed-store-stays-open',
  /** No handler call starts after its subscription was removed (off, abort). */
  'no-call-after-off',
  /**
   * A healthy fast subscriber gets each event promptly, whatever the other subscribers do: a
   * sync handler within 100 ms of the event reaching its bus's feed; a fast async handler's
   * call starts within 150 ms of the event reaching the feed and its previous call ending.
   */
  'subscriber-latency',
  /** A rate limiter's `delay` waiters stay within its maxWaiting (bus.stats().rateLimit.waiting). */
  'rate-waiters-bounded',
  /** A consumer group handles every matching event stored after consume() resolved, ending acked or dead-lettered. */
  'group-at-least-once',
  /** deliveredTo counts user subscriptions only: at most the matching ones of the publisher's bus. */
  'delivered-to-counts-users',
  /** bus.stats().subscriptions is the number of open user subscriptions (not the bus's own watchers). */
  'stats-subscriptions',
  /** A stream with over 1% of a bus's events is in stats().streams, never under-counted, first up to the sketch's error. */
  'stats-busiest-stream',
  /** A publish whose append was applied never rejects saying nothing was published. */
  'append-error-honest',
  /** After close, a publish held by a full handler queue (no store) settles, as one held by a full iterator does. */
  'close-lets-blocked-publishes-go',
  /** The library never leaves a rejected promise unhandled. */
  'no-unhandled-rejection',
  /** A library call the actors make throws something the contract does not allow. */
  'unexpected-throw',
] as const;

export type Invariant = (typeof INVARIANTS)[number];

export interface SimConfig {
  faults: FaultFlags;
  actors: ActorFlags;
  invariants: ReadonlySet<Invariant>;
  buses: [min: number, max: number];
  publishersPerBus: [min: number, max: number];
  eventsPerPublisher: [min: number, max: number];
  subscribersPerBus: [min: number, max: number];
  /** Actors start actions until this virtual time. */
  horizonMs: number;
  /** Then everything may settle (no new actions, no new faults) for this long before the check. */
  settleMs: number;
  /** Then the buses close; waits must settle within this long. */
  teardownMs: number;
  feedTimeoutMs: number;
  /** Record the schedule (costs a little; the CLI and failure reports re-run with it on). */
  trace: boolean;
}

export const ALL_FAULTS: FaultFlags = {
  feedLag: true,
  feedBursts: true,
  slowAppendReply: true,
  appendFails: true,
  appendTimeoutApplied: true,
  tailDrops: true,
  retentionTrims: true,
  readRaces: true,
  outages: true,
  instantReplies: true,
};

export const NO_FAULTS: FaultFlags = Object.fromEntries(
  Object.keys(ALL_FAULTS).map((k) => [k, false]),
) as unknown as FaultFlags;

export const ALL_ACTORS: ActorFlags = {
  slowHandlers: true,
  failingHandlers: true,
  neverResolvingHandlers: true,
  slowReaders: true,
  stallingReaders: true,
  resubscribes: true,
  resumeFromCursor: true,
  duplicateIds: true,
  batches: true,
  once: true,
  noStoreBuses: true,
  storesWithoutHas: true,
  rateLimits: true,
  consumerGroups: true,
  bursts: true,
  floods: true,
  backToBack: true,
  privateStores: true,
};

export function defaultConfig(overrides: Partial<SimConfig> = {}): SimConfig {
  return {
    faults: ALL_FAULTS,
    actors: ALL_ACTORS,
    invariants: new Set(INVARIANTS),
    buses: [2, 3],
    publishersPerBus: [1, 2],
    eventsPerPublisher: [3, 10],
    subscribersPerBus: [1, 4],
    horizonMs: 3000,
    settleMs: 20_000,
    teardownMs: 10_000,
    feedTimeoutMs: 1000,
    trace: false,
    ...overrides,
  };
}
