import {
  BuslineError,
  ClosedError,
  InvalidEventError,
  InvalidOptionError,
  StoreUnavailableError,
  TimeoutError,
} from '../errors.js';
import type { EventInput, StoredEvent } from '../event.js';
import { readEventInput } from '../event-input.js';
import { BusGroups } from '../groups/bus-groups.js';
import type { Consumer } from '../groups/consumer.js';
import type { ConsumeOptions, ConsumerHandler } from '../groups/consumer-group-options.js';
import type { DeadLetters } from '../groups/dead-letters.js';
import { checkSignal, optionsObject, positiveInteger } from '../option-checks.js';
import { type ParsedPattern, parsePatterns } from '../pattern/parse.js';
import { SubscriptionIndex } from '../pattern/subscription-index.js';
import { admitBatch, holdBatchIds } from '../publish/batch-admission.js';
import { EventStamper } from '../publish/event-stamper.js';
import { type Admission, PublishGate } from '../publish/publish-gate.js';
import type { PublishResult } from '../publish/publish-result.js';
import { untilSettledOrAborted } from '../publish/until-settled-or-aborted.js';
import { appendValidated } from '../store/append-input.js';
import type { AppendResult, EventStore, StoreStats } from '../store/event-store.js';
import { appendOwned } from '../store/memory/memory-event-store.js';
import { BufferedSubscription, type Subscription } from '../subscription/buffered-subscription.js';
import { CatchUp, type CatchUpOptions } from '../subscription/catch-up.js';
import { Dispatcher } from '../subscription/dispatcher.js';
import { HandlerQueue } from '../subscription/handler-queue.js';
import { HistoryTruncated } from '../subscription/history-truncated.js';
import type { Inbox } from '../subscription/inbox.js';
import { ReadSlots } from '../subscription/read-slots.js';
import {
  checkOnTruncated,
  checkOverflow,
  checkSelectOptions,
  checkStart,
  type OnceOptions,
  type OnOptions,
  type PublishOptions,
  type ReadyOptions,
  SUBSCRIBE_DEFAULTS,
  type SubscribeOptions,
} from '../subscription/subscribe-options.js';
import {
  type EventFilter,
  type EventHandler,
  type HandlerSink,
  type QueueOptions,
  Subscriber,
} from '../subscription/subscriber.js';
import type { BusTelemetry, PublishScope } from '../telemetry/bus-telemetry.js';
import { endPublish, startPublish, traceCalls } from '../telemetry/traced-calls.js';
import { type BusHealth, type HealthError, healthError, probeStore } from './bus-health.js';
import { BusSharedDelivery } from './bus-shared-delivery.js';
import { type BusStats, subscriptionStats } from './bus-stats.js';
import { BUS_HAS_STORE, BUS_MAX_EVENT_BYTES } from './bus-symbols.js';
import { type EventBusOptions, type ResolvedBusOptions, resolveBusOptions } from './options.js';
import { PendingWork } from './pending-work.js';
import { StreamCounter } from './stream-counter.js';
import type { EventMap, EventMatching, PatternOf, PublishInput } from './typed-events.js';

export interface BusCloseOptions {
  /**
   * Longest wait, in all, for handler calls still running or queued (`on()` handlers and
   * consumer-group handlers alike); past it they are abandoned and `close()` finishes (a
   * handler that never settles cannot hold a shutdown). @default 10000
   */
  timeoutMs?: number;
}

const STATS_TOP_STREAMS = 100;
/** Ids kept for exact duplicate confirmation when the store cannot answer `has` (see PublishGate). */
const DEDUP_RECENT_IDS = 10_000;
/**
 * Events read from the store per page while a subscription replays or catches up: its
 * `bufferSize` or `maxPending`, at least MIN_PAGE_SIZE and at most MAX_PAGE_SIZE. The floor
 * spares a subscription with room for one or two events a store round trip per event of its
 * backlog (a fast handler with `maxPending: 1` caught up from a burst seven times slower than
 * it could run: simulation seed 54388 with store faults); a page waits in the catch-up for room,
 * so the floor is what such a subscription may hold beyond its bound (docs/guarantees.md).
 */
const MIN_PAGE_SIZE = 16;
const MAX_PAGE_SIZE = 500;
const pageSizeFor = (room: number): number => Math.min(Math.max(room, MIN_PAGE_SIZE), MAX_PAGE_SIZE);
/** What each subscription's CatchUp says for itself; the rest is the bus's (see EventBus#catchUp). */
type OwnCatchUpOptions = Omit<CatchUpOptions, 'store' | 'slots' | 'watchFeed' | 'pageSize' | 'pendingLimit'>;
/** Wait before a handler's catch-up reads the store again after a failed read. */
const CATCH_UP_RETRY_MS = 250;
/** The queue of an `on()` subscription given no `concurrency` or `maxPending` (shared: nothing to allocate). */
const DEFAULT_QUEUE: QueueOptions = Object.freeze({
  concurrency: SUBSCRIBE_DEFAULTS.concurrency,
  maxPending: SUBSCRIBE_DEFAULTS.maxPending,
});
/** How long `health()` waits for the store's answer by default. */
const HEALTH_TIMEOUT_MS = 2000;
/** How long `close()` waits for handler calls by default. */
const CLOSE_TIMEOUT_MS = 10_000;

/**
 * The event bus: typed publish, wildcard subscriptions (`task.*`, `**`), handler isolation
 * and bounded async iteration. See docs/guide.md and docs/guarantees.md.
 */
export class EventBus<Events extends EventMap = EventMap> {
  readonly #options: ResolvedBusOptions;
  readonly #store: EventStore | null;
  readonly #index: SubscriptionIndex<Subscriber>;
  readonly #dispatcher: Dispatcher;
  readonly #stamper: EventStamper;
  readonly #gate: PublishGate;
  /**
   * Delivery through the live feed of a store shared between processes (one with `tail`): all
   * delivery goes through it (see SharedDelivery). Undefined with any other store, or none.
   */
  readonly #shared: BusSharedDelivery | undefined;
  readonly #streams = new StreamCounter();
  /** Handler calls queued or running, and handler catch-ups: what `drain()` waits for. */
  readonly #pending = new PendingWork();
  /** Bounds the store reads of replays and catch-ups running at once. */
  readonly #readSlots: ReadSlots;
  /** Failed store reads in a row an iterator's replay or catch-up retries (about feedTimeoutMs). */
  readonly #readRetries: number;
  /** What `close()` must end: pending `once` promises and open iterators. */
  readonly #closers = new Set<() => void>();
  /** The store's last failure, for `health()`. */
  #lastStoreError: HealthError | undefined;
  /** The `telemetry` option; undefined: nothing is traced, measured or added to events. */
  readonly #telemetry: BusTelemetry | undefined;
  /** What `telemetry.attach` returned: called once the bus has closed. */
  #detachTelemetry: (() => void) | undefined;
  #published = 0;
  #duplicates = 0;
  #rateLimited = 0;
  #dropped = 0;
  #closing: Promise<void> | undefined;
  /** `consume` and `deadLetters`: the groups are made, and their code loaded, on first use. */
  readonly #groups: BusGroups;

  constructor(options: EventBusOptions<Events> = {}) {
    this.#options = resolveBusOptions(options as unknown as EventBusOptions<EventMap>);
    this.#store = this.#options.store;
    this.#readSlots = new ReadSlots(this.#options.maxConcurrentReads);
    this.#readRetries = Math.ceil(this.#options.feedTimeoutMs / CATCH_UP_RETRY_MS);
    this.#index = new SubscriptionIndex(this.#options.matchCacheSize);
    this.#dispatcher = new Dispatcher(this.#options.onError);
    this.#telemetry = this.#options.telemetry;
    this.#stamper = new EventStamper({
      ...this.#options,
      clock: this.#options.stampClock,
      report: this.#reportTelemetry,
      isKnownType: (type) => this.#index.lookup(type) !== undefined,
    });
    const { dedup, limiter, limitKey, store, dedupOnBusClock, limiterOnBusClock } = this.#options;
    this.#shared =
      store?.tail !== undefined
        ? new BusSharedDelivery(
            {
              store: store as EventStore & Required<Pick<EventStore, 'tail'>>,
              index: this.#index,
              deliverLocally: (event) => this.#deliverLocally(event),
              append: (events) => this.#appendThroughPort(events),
              record: (event, appended) => this.#recordAppended(event, appended),
              report: (error) => this.#dispatcher.report(error, { source: 'feed', patterns: [] }),
              clock: this.#options.stampClock,
              feedTimeoutMs: this.#options.feedTimeoutMs,
            },
            () => this.#closing !== undefined,
          )
        : undefined;
    this.#gate = new PublishGate({
      dedup,
      limiter,
      limitKey,
      store,
      recentIds: DEDUP_RECENT_IDS,
      dedupOnBusClock,
      limiterOnBusClock,
      limited: () => {
        this.#rateLimited++;
      },
    });
    this.#groups = new BusGroups({
      store,
      telemetry: this.#telemetry,
      reportTelemetry: this.#reportTelemetry,
      clock: this.#options.clock,
      report: (error, context) => this.#dispatcher.report(error, context),
      watch: (patterns, wake) => this.#watch(patterns, wake),
      // Bounded like a publish: with the store down, consume() rejects after feedTimeoutMs.
      ready: () => this.#shared?.positioned(undefined) ?? Promise.resolve(),
    });
    try {
      const detach = this.#telemetry?.attach?.({ stats: () => this.stats(), health: () => this.health() });
      if (typeof detach === 'function') this.#detachTelemetry = detach;
    } catch (error) {
      this.#reportTelemetry(error);
    }
  }

  /**
   * Validates, stamps, stores and delivers one event. Invalid input rejects with a typed
   * error and publishes nothing; an id the store already holds resolves with `status: 'duplicate'`.
   * `signal` ends its waits (see PublishOptions).
   */
  publish<K extends keyof Events & string>(
    event: PublishInput<Events, K>,
    options?: PublishOptions,
  ): Promise<PublishResult> {
    if (this.#telemetry === undefined) return this.#publishPromise(event as EventInput, options, undefined);
    const scope = startPublish(this.#telemetry, false, 1, this.#reportTelemetry);
    const publishing = this.#publishPromise(event as EventInput, options, scope);
    return scope === undefined ? publishing : endPublish(scope, publishing, this.#reportTelemetry);
  }

  /**
   * `#publish` as a promise, as if it were an async function: a throw becomes a rejection.
   * Not an async function itself because one costs an extra object and about 20 ns per call
   * over `Promise.resolve` when it completes synchronously, the common case (issue #18).
   */
  #publishPromise(
    event: EventInput,
    options: PublishOptions | undefined,
    scope: PublishScope | undefined,
  ): Promise<PublishResult> {
    try {
      const result = this.#publish(event, options, scope);
      return result instanceof Promise ? result : Promise.resolve(result);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  #publish(
    event: EventInput,
    options: PublishOptions | undefined,
    scope: PublishScope | undefined,
  ): PublishResult | Promise<PublishResult> {
    this.#assertOpen();
    const signal = options === undefined ? undefined : checkSignal(optionsObject('publish', options).signal);
    signal?.throwIfAborted();
    const input = readEventInput(event, undefined);
    const stamped = this.#stamper.stamp(input, undefined, undefined, scope);
    // The input had no id: the bus made a fresh one (see the gate and the append below).
    const generated = input.id === undefined;
    // Stamped asynchronously (a schema's validation): the gate's components read their clocks then.
    if (stamped instanceof Promise)
      return stamped.then((ready) => this.#admit(ready, generated, undefined, signal));
    // Stamped synchronously: the clock was read just now, the gate's components need not read it again.
    return this.#admit(stamped, generated, this.#stamper.now, signal);
  }

  /** The gate's verdict on a stamped event, then the store and delivery. */
  #admit(
    ready: StoredEvent,
    generated: boolean,
    now: number | undefined,
    signal: AbortSignal | undefined,
  ): PublishResult | Promise<PublishResult> {
    if (this.#gate.isOpen) return this.#storeAndDispatch(ready, generated, signal);
    const admission = this.#gate.admit(ready, undefined, now, generated, signal);
    // The gate holds this id meanwhile: a concurrent publish of it waits for this one's outcome.
    if (admission instanceof Promise) return this.#admitAfterWait(ready, generated, admission, signal);
    return this.#goesOn(admission)
      ? this.#storeAndDispatch(ready, generated, signal)
      : this.#refused(ready, admission as Exclude<Admission, 'admit'>);
  }

  /** `#admit` once the gate's verdict had to wait; the id the gate holds is released at the end. */
  async #admitAfterWait(
    ready: StoredEvent,
    generated: boolean,
    admission: Promise<Admission>,
    signal: AbortSignal | undefined,
  ): Promise<PublishResult> {
    let verdict: Admission;
    try {
      verdict = await admission;
    } catch (error) {
      this.#gate.release(ready.id, ready);
      throw error;
    }
    if (!this.#goesOn(verdict)) {
      this.#gate.release(ready.id, ready);
      return this.#refused(ready, verdict as Exclude<Admission, 'admit'>);
    }
    try {
      return await this.#storeAndDispatch(ready, generated, signal);
    } finally {
      this.#gate.release(ready.id, ready);
    }
  }

  /** The rest of `publish` once admitted: a plain value when nothing had to wait (the default memory store). */
  #storeAndDispatch(
    ready: StoredEvent,
    generated: boolean,
    signal: AbortSignal | undefined,
  ): PublishResult | Promise<PublishResult> {
    if (this.#store === null) return this.#dispatch(ready, undefined, signal);
    if (this.#shared !== undefined)
      return this.#shared.publish([ready], signal).then((results) => results[0]!);
    // An id the bus made (the input had none) sorts after the ones before it: the store indexes it cheaply.
    const appending = this.#append([ready], generated);
    if (appending instanceof Promise)
      return appending.then(([appended]) => this.#dispatch(ready, appended, signal));
    return this.#dispatch(ready, appending[0], signal);
  }

  /**
   * Publishes several events with one store round trip; if any is invalid the call rejects
   * (naming its index) and none is published.
   */
  publishBatch<K extends keyof Events & string>(
    events: readonly PublishInput<Events, K>[],
    options?: PublishOptions,
  ): Promise<PublishResult[]> {
    const inputs = events as readonly EventInput[];
    if (this.#telemetry === undefined || !Array.isArray(events))
      return this.#publishBatch(inputs, options, undefined);
    const scope = startPublish(this.#telemetry, true, events.length, this.#reportTelemetry);
    const publishing = this.#publishBatch(inputs, options, scope);
    return scope === undefined ? publishing : endPublish(scope, publishing, this.#reportTelemetry);
  }

  async #publishBatch(
    events: readonly EventInput[],
    options: PublishOptions | undefined,
    scope: PublishScope | undefined,
  ): Promise<PublishResult[]> {
    this.#assertOpen();
    if (!Array.isArray(events))
      throw new InvalidEventError('Expected publishBatch to receive an array of events');
    const signal =
      options === undefined ? undefined : checkSignal(optionsObject('publishBatch', options).signal);
    signal?.throwIfAborted();
    // One clock read for the batch: its events are published at once.
    // Read once: everything below works on these copies, never on the caller's objects again.
    const inputs: EventInput[] = new Array(events.length);
    for (let i = 0; i < inputs.length; i++) inputs[i] = readEventInput(events[i], i);
    const now = this.#options.stampClock();
    const stamped = inputs.map((input, index) => this.#stamper.stamp(input, index, now, scope));
    const ready = stamped.some((p) => p instanceof Promise)
      ? await Promise.all(stamped)
      : (stamped as StoredEvent[]);
    // The ids this call holds (see the gate); the array is also the holder's identity.
    const held: string[] = [];
    try {
      // Without a store nothing but the gate's locks keeps a concurrent publish of one of these
      // ids from being delivered too while the batch waits: hold them all first, in id order
      // (two batches then never wait for each other in a circle). Free ones are taken at once.
      let waited = ready !== stamped;
      if (this.#store === null && !this.#gate.isOpen) {
        const holding = holdBatchIds(this.#gate, inputs, held, signal);
        if (holding !== undefined) {
          await holding;
          waited = true;
        }
      }
      // After a wait the gate's components read their clocks again.
      const admitting = this.#gate.isOpen
        ? undefined
        : admitBatch(this.#gate, inputs, ready, waited ? undefined : now, signal, held);
      const verdicts = admitting instanceof Promise ? await admitting : admitting;
      const published = this.#publishAdmitted(inputs, ready, verdicts, signal);
      return held.length === 0 ? published : await published;
    } finally {
      for (const id of held) this.#gate.release(id, held);
    }
  }

  #publishAdmitted(
    inputs: readonly EventInput[],
    ready: StoredEvent[],
    verdicts: Admission[] | undefined,
    signal: AbortSignal | undefined,
  ): PublishResult[] | Promise<PublishResult[]> {
    const admitted: StoredEvent[] = [];
    const generated: boolean[] = [];
    for (let i = 0; i < ready.length; i++) {
      if (verdicts !== undefined && !this.#goesOn(verdicts[i]!)) continue;
      admitted.push(ready[i]!);
      generated.push(ready[i]!.id !== inputs[i]!.id);
    }
    let next = 0;
    if (this.#shared !== undefined && admitted.length > 0) {
      return this.#shared.publish(admitted, signal).then((shared) =>
        ready.map((event, i) => {
          const verdict = verdicts?.[i] ?? 'admit';
          return this.#goesOn(verdict) ? shared[next++]! : this.#refused(event, verdict as 'rate_limited');
        }),
      );
    }
    const appending =
      this.#store === null || admitted.length === 0 ? undefined : this.#append(admitted, generated);
    if (appending instanceof Promise)
      return appending.then((appended) => this.#dispatchBatch(ready, verdicts, appended, signal));
    return this.#dispatchBatch(ready, verdicts, appending, signal);
  }

  #dispatchBatch(
    ready: StoredEvent[],
    verdicts: Admission[] | undefined,
    appended: AppendResult[] | undefined,
    signal: AbortSignal | undefined,
  ): PublishResult[] | Promise<PublishResult[]> {
    let next = 0;
    const results = ready.map((event, i) => {
      const verdict = verdicts?.[i] ?? 'admit';
      return this.#goesOn(verdict)
        ? this.#dispatch(event, appended?.[next++], signal)
        : this.#refused(event, verdict as Exclude<Admission, 'admit'>);
    });
    return results.some((r) => r instanceof Promise) ? Promise.all(results) : (results as PublishResult[]);
  }

  /**
   * Calls `handler` for every matching event until the returned function is called or `signal`
   * aborts. Async handlers run through the subscription's own queue (`concurrency`, `maxPending`).
   */
  on<P extends PatternOf<Events>>(
    pattern: P | readonly P[],
    handler: (event: EventMatching<Events, P>) => unknown,
    options: OnOptions<EventMatching<Events, P>> = {},
  ): () => void {
    this.#assertOpen();
    if (typeof handler !== 'function') throw new InvalidOptionError('Expected `handler` to be a function');
    // Every option is read once: a getter cannot answer one value to the check and another later.
    const { stream, filter, signal } = checkSelectOptions(options as OnOptions<never>);
    const { concurrency, maxPending } = options;
    const queueOptions =
      concurrency === undefined && maxPending === undefined
        ? DEFAULT_QUEUE
        : {
            concurrency: positiveInteger('concurrency', concurrency, SUBSCRIBE_DEFAULTS.concurrency),
            maxPending: positiveInteger('maxPending', maxPending, SUBSCRIBE_DEFAULTS.maxPending),
          };
    const patterns = parsePatterns(pattern);
    const subscriber = new Subscriber(
      patterns,
      stream,
      filter as EventFilter | undefined,
      this.#traceHandler(handler as EventHandler, patterns),
      undefined,
      this.#makeHandlerSink,
      queueOptions,
    );
    if (signal?.aborted) return () => {};
    const off = (): void => {
      if (!subscriber.active) return;
      this.#unsubscribe(subscriber);
      subscriber.queue?.cancel();
      signal?.removeEventListener('abort', off);
    };
    signal?.addEventListener('abort', off, { once: true });
    this.#index.add(subscriber);
    return off;
  }

  /** The next matching event. Rejects with `TimeoutError` after `timeoutMs`, with the abort reason on abort, `ClosedError` on close. */
  once<P extends PatternOf<Events>>(
    pattern: P | readonly P[],
    options: OnceOptions<EventMatching<Events, P>> = {},
  ): Promise<EventMatching<Events, P>> {
    this.#assertOpen();
    const { stream, filter, signal } = checkSelectOptions(options as OnceOptions<never>);
    const { timeoutMs } = options;
    if (timeoutMs !== undefined) positiveInteger('timeoutMs', timeoutMs, 0);
    return new Promise((resolve, reject) => {
      const settle = (error: unknown, event?: StoredEvent): void => {
        this.#unsubscribe(subscriber);
        this.#closers.delete(onClose);
        signal?.removeEventListener('abort', onAbort);
        if (timer !== undefined) clearTimeout(timer);
        if (event) resolve(event as EventMatching<Events, P>);
        else reject(error);
      };
      const onAbort = (): void => settle(signal!.reason);
      const onClose = (): void => settle(new ClosedError('The bus closed before a matching event arrived'));
      const subscriber = new Subscriber(
        parsePatterns(pattern),
        stream,
        filter as EventFilter | undefined,
        (event) => settle(undefined, event),
        undefined,
      );
      if (signal?.aborted) return reject(signal.reason);
      let timer: ReturnType<typeof setTimeout> | undefined;
      if (timeoutMs !== undefined) {
        timer = setTimeout(
          () => settle(new TimeoutError(`No matching event within ${timeoutMs} ms`)),
          timeoutMs,
        );
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#closers.add(onClose);
      this.#index.add(subscriber);
    });
  }

  /**
   * An AsyncIterable of matching events with a bounded buffer: live from now, or replaying
   * stored history first (`from`) and then live with no gap and no duplicate. With a store, a
   * reader that falls behind catches up from the store (see docs/guarantees.md). Release it
   * with `break`, `return()`, `close()`, `signal` or `await using`.
   */
  subscribe<P extends PatternOf<Events>>(
    pattern: P | readonly P[],
    options: SubscribeOptions<EventMatching<Events, P>> & { onTruncated: 'signal' },
  ): Subscription<EventMatching<Events, P> | HistoryTruncated>;
  subscribe<P extends PatternOf<Events>>(
    pattern: P | readonly P[],
    options?: SubscribeOptions<EventMatching<Events, P>> & { onTruncated?: 'throw' },
  ): Subscription<EventMatching<Events, P>>;
  subscribe<P extends PatternOf<Events>>(
    pattern: P | readonly P[],
    options: SubscribeOptions<EventMatching<Events, P>>,
  ): Subscription<EventMatching<Events, P> | HistoryTruncated>;
  subscribe(
    pattern: string | readonly string[],
    options: SubscribeOptions<never> = {},
  ): Subscription<StoredEvent | HistoryTruncated> {
    this.#assertOpen();
    const { stream, filter, signal } = checkSelectOptions(options);
    const start = checkStart(options.from, this.#store !== null);
    const bufferSize = positiveInteger('bufferSize', options.bufferSize, SUBSCRIBE_DEFAULTS.bufferSize);
    const overflow = checkOverflow(options.overflow);
    const onTruncated = checkOnTruncated(options.onTruncated);
    // With a store, a full buffer catches up from it, unless a drop or error policy was asked for.
    const catchUp = this.#store !== null && (overflow === undefined || overflow === 'block');
    const patterns = parsePatterns(pattern);
    const release = (): void => {
      this.#unsubscribe(subscriber);
      this.#closers.delete(close);
      signal?.removeEventListener('abort', abort);
    };
    const subscription = new BufferedSubscription<StoredEvent | HistoryTruncated>(
      bufferSize,
      catchUp ? 'catch-up' : (overflow ?? SUBSCRIBE_DEFAULTS.overflow),
      {
        release,
        dropped: (count) => {
          this.#dropped += count;
        },
        failed: (error) =>
          this.#dispatcher.report(error, { source: 'subscription', patterns: subscriber.sources }),
      },
    );
    const sources = patterns.map((p) => p.source);
    const handover =
      this.#store === null
        ? undefined
        : this.#catchUp(subscription, bufferSize, {
            start,
            types: sources,
            stream,
            filter: filter as EventFilter | undefined,
            catchUp,
            onFilterError: (error, event) =>
              this.#dispatcher.report(error, { source: 'filter', patterns: sources, event }),
            onTruncated: async (error) => {
              if (onTruncated === 'throw') {
                subscription.fail(error);
                return false;
              }
              await subscription.whenRoom();
              subscription.accept(new HistoryTruncated(error.after, error.message, error.oldest));
              return true;
            },
            onReadError: (error, failures) => {
              // A store that comes back soon (a reconnect, a restart) costs the reader nothing;
              // one that stays down ends the loop, typed, after about feedTimeoutMs.
              if (error.code === 'STORE_UNAVAILABLE' && failures <= this.#readRetries) {
                if (failures === 1)
                  this.#dispatcher.report(error, { source: 'subscription', patterns: sources });
                return CATCH_UP_RETRY_MS;
              }
              subscription.fail(error);
              return undefined;
            },
          });
    const subscriber = new Subscriber(
      patterns,
      stream,
      filter as EventFilter | undefined,
      undefined,
      handover ?? subscription,
    );
    const close = (): void => subscription.close();
    const abort = (): void => void subscription.return();
    if (signal?.aborted) {
      void subscription.return();
      return subscription;
    }
    signal?.addEventListener('abort', abort, { once: true });
    this.#closers.add(close);
    // Registered before the replay's first read: see CatchUp.
    this.#index.add(subscriber);
    if (handover !== undefined) this.#startReplay(handover, subscription);
    return subscription;
  }

  /**
   * Starts a replay. On a shared store, only once the live feed is positioned: a replay that
   * handed over to live before it would miss what is appended until the feed starts.
   */
  #startReplay(handover: CatchUp, subscription: BufferedSubscription<StoredEvent | HistoryTruncated>): void {
    const shared = this.#shared;
    if (shared === undefined || shared.feed?.isReady === true) {
      handover.start();
      return;
    }
    shared.positioned(undefined).then(
      () => handover.start(),
      (error: unknown) => subscription.fail(error as Error),
    );
  }

  /**
   * At-least-once processing shared by a group: each matching event goes to one consumer of
   * `options.group`; a resolving handler acks, a failing one is retried with backoff, then
   * dead-lettered. Resolves once the group is positioned. See docs/consumer-groups.md.
   */
  async consume<P extends PatternOf<Events>>(
    pattern: P | readonly P[],
    handler: ConsumerHandler<EventMatching<Events, P>>,
    options: ConsumeOptions,
  ): Promise<Consumer> {
    this.#assertOpen();
    // Closed while the groups loaded: ConsumerGroups is closed too, and refuses with ClosedError.
    const groups = this.#groups.get();
    return (groups instanceof Promise ? await groups : groups).consume(
      pattern,
      handler as ConsumerHandler,
      options,
    );
  }

  /** The dead letters of a consumer group: `list()` and `redrive(ids?)`. */
  deadLetters(group: string): DeadLetters {
    this.#assertOpen();
    return this.#groups.deadLetters(group);
  }

  /** An internal subscription (consumer-group wake-ups): not counted as a subscriber anywhere. */
  #watch(patterns: readonly string[], wake: () => void): () => void {
    const subscriber = new Subscriber(
      parsePatterns(patterns),
      undefined,
      undefined,
      wake,
      undefined,
      undefined,
      undefined,
      true,
    );
    this.#index.add(subscriber);
    return () => this.#unsubscribe(subscriber);
  }

  /**
   * Resolves once the live feed is positioned: from then on every event published by any
   * process reaches this bus's matching subscribers. At once unless the store is shared
   * between processes (has `tail`). Rejects with `StoreUnavailableError` after `timeoutMs`
   * (default `feedTimeoutMs`), with the abort reason on abort, and with `ClosedError` if the
   * bus closes first.
   */
  ready(options: ReadyOptions = {}): Promise<void> {
    if (this.#closing) return Promise.reject(new ClosedError('The bus is closed'));
    const shared = this.#shared;
    if (shared === undefined) return Promise.resolve();
    try {
      const signal = checkSignal(optionsObject('ready', options).signal);
      const timeoutMs = positiveInteger('timeoutMs', options.timeoutMs, this.#options.feedTimeoutMs);
      return shared.positioned(signal, timeoutMs);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** For helpers in this package (SSE): whether this bus keeps a store, without importing the bus. */
  get [BUS_HAS_STORE](): boolean {
    return this.#store !== null;
  }

  /** For the SSE helper: the size bound it checks again on what it frames. */
  get [BUS_MAX_EVENT_BYTES](): number {
    return this.#options.maxEventBytes;
  }

  /** The store's own numbers (`null` without a store); asynchronous because stores may be remote. */
  async storeStats(): Promise<StoreStats | null> {
    return this.#store === null ? null : this.#store.stats();
  }

  stats(): BusStats {
    return {
      published: this.#published,
      delivered: this.#dispatcher.delivered,
      duplicates: this.#duplicates,
      rateLimited: this.#rateLimited,
      dropped: this.#dropped,
      handlerErrors: this.#dispatcher.handlerErrors,
      pendingHandlers: this.#pending.size,
      ...subscriptionStats(this.#index),
      streams: this.#streams.top(STATS_TOP_STREAMS),
      dedup: this.#options.dedup?.stats() ?? null,
      rateLimit: this.#options.limiter?.stats() ?? null,
    };
  }

  /**
   * A snapshot for a readiness probe: is the store reachable (it is asked for its `stats()`,
   * at most `timeoutMs`, default 2000), is the live feed of a shared store positioned and how
   * far behind, and each consumer group's pending and dead-letter counts. See docs/observability.md.
   */
  async health(options: { timeoutMs?: number } = {}): Promise<BusHealth> {
    const timeoutMs = positiveInteger(
      'timeoutMs',
      optionsObject('health', options).timeoutMs,
      HEALTH_TIMEOUT_MS,
    );
    const closed = this.#closing !== undefined;
    const feed = this.#shared?.feed;
    const [probeError, groups] = await Promise.all([
      this.#store === null || closed ? undefined : probeStore(this.#store, timeoutMs, this.#options.clock),
      closed ? [] : this.#groups.health(timeoutMs),
    ]);
    const reachable = !closed && probeError === undefined;
    if (probeError !== undefined) this.#lastStoreError = probeError;
    const feedError = this.#shared?.lastError;
    if (feedError !== undefined && this.#lastStoreError?.message !== (feedError as Error)?.message) {
      this.#lastStoreError = healthError(feedError, this.#options.clock());
    }
    const lastError = this.#lastStoreError;
    return {
      ok: !closed && reachable && (this.#shared === undefined || feed?.isReady === true),
      closed,
      store: this.#store === null ? null : { reachable, ...(lastError === undefined ? {} : { lastError }) },
      feed:
        this.#shared === undefined
          ? null
          : {
              positioned: feed?.isReady === true,
              ...(feed?.lagMs === undefined ? {} : { lagMs: feed.lagMs }),
            },
      groups,
    };
  }

  /** Resolves when every handler call and handler catch-up started or queued so far has settled (for tests). */
  drain(): Promise<void> {
    return this.#pending.whenIdle();
  }

  /**
   * Stops intake, ends iterators (they still yield what they buffered), rejects pending
   * `once`, drains handlers (at most `timeoutMs`, default 10 s) and closes the store if the bus made it
   * (a store passed in is the caller's to close). Idempotent.
   */
  close(options: BusCloseOptions = {}): Promise<void> {
    if (this.#closing === undefined) {
      const timeoutMs = positiveInteger('timeoutMs', options?.timeoutMs, CLOSE_TIMEOUT_MS);
      this.#closing = this.#shutdown(timeoutMs);
      // After #closing is set: a publish the abort wakes must find the bus closed.
      this.#gate.close(
        new ClosedError(
          'The bus closed while this publish waited to be admitted (a delay rate limit, or another publish of its id); nothing was published',
        ),
      );
    }
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #shutdown(timeoutMs: number): Promise<void> {
    // One budget for the whole close: consumers' handlers in flight, then `on()` handlers.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const expired = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
    try {
      const closingGroups = this.#groups.close(timeoutMs);
      if (closingGroups !== undefined) await Promise.race([closingGroups, expired]);
      await this.#shared?.stop();
      for (const close of [...this.#closers]) close();
      this.#index.forEach((s) => {
        s.queue?.letPublishersGo();
      });
      await Promise.race([this.#pending.whenIdle(), expired]);
    } finally {
      clearTimeout(timer);
    }
    if (this.#options.ownsStore) await this.#store?.close();
    try {
      this.#detachTelemetry?.();
    } catch (error) {
      this.#reportTelemetry(error);
    }
  }

  /** An `on()` handler whose calls run in process scopes of the telemetry (the handler itself without one). */
  #traceHandler(handler: EventHandler, patterns: readonly ParsedPattern[]): EventHandler {
    if (this.#telemetry?.process === undefined) return handler;
    const sources = patterns.map((p) => p.source);
    return traceCalls(
      this.#telemetry,
      handler,
      (event) => ({ event, kind: 'handler', patterns: sources }),
      (error) => ({ status: 'error', error }),
      this.#reportTelemetry,
    );
  }

  readonly #reportTelemetry = (error: unknown): void =>
    this.#dispatcher.report(error, { source: 'telemetry', patterns: [] });

  #assertOpen(): void {
    if (this.#closing) throw new ClosedError('The bus is closed');
  }

  #unsubscribe(subscriber: Subscriber): void {
    if (!subscriber.active) return;
    subscriber.active = false;
    this.#index.remove(subscriber);
  }

  /**
   * The queue of an `on()` handler that turned out async, with a CatchUp in front when there
   * is a store (a full queue then reads what it missed from the store instead of dropping).
   */
  readonly #makeHandlerSink = (s: Subscriber): HandlerSink => this.#handlerSink(s, s.queueOptions!);

  #handlerSink(s: Subscriber, options: QueueOptions): HandlerSink {
    const queue = new HandlerQueue(s.handler!, options, {
      failed: (error, event) => this.#dispatcher.fail(error, 'handler', s, event),
      pending: (delta) => this.#pending.change(delta),
      dropped: (error, event) => {
        this.#dropped++;
        this.#dispatcher.report(error, { source: 'handler', patterns: s.sources, event });
      },
    });
    if (this.#store === null) return { queue, sink: queue };
    const catchUp = this.#catchUp(queue, options.maxPending, {
      start: 'now',
      types: s.sources,
      stream: s.stream,
      filter: s.filter,
      catchUp: true,
      onFilterError: (error, event) => this.#dispatcher.fail(error, 'filter', s, event),
      onTruncated: (error) => {
        // A handler cannot be ended like a loop: it is told, and goes on from the oldest retained event.
        this.#dispatcher.report(error, { source: 'handler', patterns: s.sources });
        return true;
      },
      onReadError: (error) => {
        this.#dispatcher.report(error, { source: 'handler', patterns: s.sources });
        return CATCH_UP_RETRY_MS;
      },
      busy: (delta) => this.#pending.change(delta),
    });
    return { queue, sink: catchUp };
  }

  /**
   * A CatchUp in front of `inbox`, reading this bus's store, for a subscription with room for
   * `room` events: the live events it holds while reading, and its pages (see pageSizeFor).
   */
  #catchUp(inbox: Inbox<StoredEvent>, room: number, options: OwnCatchUpOptions): CatchUp {
    return new CatchUp(inbox, {
      ...options,
      store: this.#store!,
      slots: this.#readSlots,
      watchFeed: (cursor) => this.#shared?.feed?.watch(cursor),
      pageSize: pageSizeFor(room),
      pendingLimit: room,
    });
  }

  /**
   * Whether an event goes on to the store (or, without one, to delivery). With a store a
   * duplicate does too: the idempotent append names the original's cursor for the result.
   */
  #goesOn(verdict: Admission): boolean {
    return verdict === 'admit' || (verdict === 'duplicate' && this.#store !== null);
  }

  #refused(event: StoredEvent, verdict: Exclude<Admission, 'admit'>): PublishResult {
    if (verdict === 'duplicate') this.#duplicates++;
    else this.#rateLimited++;
    return { id: event.id, status: verdict, deliveredTo: 0 };
  }

  /**
   * Appends through the store. The default memory store takes the bus's own events
   * synchronously (no promise, no second validation, no copy); any other store goes through
   * the port.
   */
  #append(
    events: StoredEvent[],
    generated: boolean | readonly boolean[],
  ): AppendResult[] | Promise<AppendResult[]> {
    const store = this.#store as EventStore & {
      [appendOwned]?: (events: StoredEvent[], generated: boolean | readonly boolean[]) => AppendResult[];
    };
    if (store[appendOwned] !== undefined) return store[appendOwned](events, generated);
    return this.#appendThroughPort(events);
  }

  /**
   * Appends through the store. A failure that is not a BuslineError becomes StoreUnavailableError;
   * the store may have applied the append before it failed (a timeout), so the message says how
   * to retry safely.
   */
  async #appendThroughPort(events: StoredEvent[]): Promise<AppendResult[]> {
    const store = this.#store as EventStore & {
      [appendValidated]?: (events: readonly StoredEvent[]) => Promise<AppendResult[]>;
    };
    try {
      // The bus's events are its own validated copies: a store that offers it skips re-checking them.
      return await (store[appendValidated] !== undefined
        ? store[appendValidated](events)
        : store.append(events));
    } catch (error) {
      this.#lastStoreError = healthError(error, this.#options.clock());
      if (error instanceof BuslineError) throw error;
      throw new StoreUnavailableError(
        'The event store rejected the append. If it applied it anyway (a timeout), publishing the same event with the same id again is a safe duplicate',
        { cause: error },
      );
    }
  }

  #dispatch(
    event: StoredEvent,
    appended: AppendResult | undefined,
    signal: AbortSignal | undefined,
  ): PublishResult | Promise<PublishResult> {
    const duplicate = this.#recordAppended(event, appended);
    if (duplicate !== undefined) return duplicate;
    const deliveredTo = this.#deliverLocally(event);
    // Without a store an id counts as seen once delivered.
    if (appended === undefined) this.#gate.remember(event.id);
    const result: PublishResult =
      appended === undefined
        ? { id: event.id, status: 'delivered', deliveredTo }
        : { id: event.id, status: 'delivered', cursor: appended.cursor, deliveredTo };
    const waits = this.#dispatcher.takeBackpressure();
    return waits === undefined
      ? result
      : untilSettledOrAborted(Promise.all(waits), signal).then(() => result);
  }

  /** Delivers to this bus's subscribers; returns how many user subscriptions were reached. */
  #deliverLocally(event: StoredEvent): number {
    // Types were validated when stamped; one from another process that is not valid here reaches no one.
    const entry = this.#index.lookup(event.type);
    return entry === undefined ? 0 : this.#dispatcher.deliver(event, entry.members);
  }

  /** Counts an appended event and gives it its cursor; the result of a duplicate, else undefined. */
  #recordAppended(event: StoredEvent, appended: AppendResult | undefined): PublishResult | undefined {
    if (appended !== undefined) {
      // Stored (now, or before as the original of a duplicate): from now on the id is seen.
      this.#gate.remember(event.id);
      if (appended.duplicate) {
        this.#duplicates++;
        return { id: event.id, status: 'duplicate', cursor: appended.cursor, deliveredTo: 0 };
      }
      // The cursor is known only now, and the event has not been shared with anyone yet.
      (event as { cursor: string }).cursor = appended.cursor;
    }
    this.#published++;
    this.#streams.count(event.stream);
    return undefined;
  }
}
