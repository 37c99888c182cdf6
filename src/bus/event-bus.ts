import {
  ClosedError,
  EventTooLargeError,
  InvalidEventError,
  InvalidOptionError,
  TimeoutError,
} from '../errors.js';
import {
  EVENT_DEFAULTS,
  type EventInput,
  envelopeBytes,
  envelopeProblem,
  type StoredEvent,
} from '../event.js';
import { createEventId } from '../event-id.js';
import { NotSerializableError } from '../json-size.js';
import { eventTypeProblem } from '../pattern/event-type.js';
import { parsePatterns } from '../pattern/parse.js';
import { SubscriptionIndex } from '../pattern/subscription-index.js';
import { validateData } from '../schema/validate-data.js';
import { BufferedSubscription, type Subscription } from '../subscription/buffered-subscription.js';
import { Dispatcher } from './dispatcher.js';
import {
  type EventBusOptions,
  positiveInteger,
  type ResolvedBusOptions,
  resolveBusOptions,
} from './options.js';
import { StreamCounter } from './stream-counter.js';
import {
  checkOverflow,
  checkSelectOptions,
  type OnceOptions,
  type OnOptions,
  SUBSCRIBE_DEFAULTS,
  type SubscribeOptions,
} from './subscribe-options.js';
import { type EventFilter, type EventHandler, Subscriber } from './subscriber.js';
import type { EventMap, EventMatching, PatternOf, PublishInput } from './typed-events.js';

export interface PublishResult {
  id: string;
  /** `delivered`: accepted and dispatched (even to no subscriber); the others: not published. */
  status: 'delivered' | 'duplicate' | 'rate_limited';
  /** Resume point in the store; absent without a store. */
  cursor?: string;
  /** Subscribers the event reached after their `stream` and `filter`. */
  deliveredTo: number;
}

export interface BusStats {
  published: number;
  /** Deliveries: one per (event, subscriber reached). */
  delivered: number;
  duplicates: number;
  rateLimited: number;
  /** Events discarded by subscription overflow policies. */
  dropped: number;
  /** Handler and filter failures reported to `onError`. */
  handlerErrors: number;
  /** Async handler calls running or queued. */
  pendingHandlers: number;
  subscriptions: number;
  /** Subscribers per pattern, most subscribed first. */
  patterns: { pattern: string; subscribers: number }[];
  /** Publish counts of the busiest streams (at most 100), busiest first. */
  streams: { stream: string; published: number }[];
}

const STATS_TOP_STREAMS = 100;

/**
 * The event bus: typed publish, wildcard subscriptions (`task.*`, `**`), handler isolation
 * and bounded async iteration. See docs/guide.md.
 */
export class EventBus<Events extends EventMap = EventMap> {
  readonly #options: ResolvedBusOptions;
  readonly #index: SubscriptionIndex<Subscriber>;
  readonly #dispatcher: Dispatcher;
  readonly #streams = new StreamCounter();
  /** What `close()` must end: pending `once` promises and open iterators. */
  readonly #closers = new Set<() => void>();
  #published = 0;
  #dropped = 0;
  #closing: Promise<void> | undefined;

  constructor(options: EventBusOptions<NoInfer<Events>> = {}) {
    this.#options = resolveBusOptions(options as EventBusOptions<EventMap>);
    this.#index = new SubscriptionIndex(this.#options.matchCacheSize);
    this.#dispatcher = new Dispatcher(this.#options.handlerConcurrency, this.#options.onError);
  }

  /** Validates, stamps and delivers one event. Invalid input rejects with a typed error and publishes nothing. */
  async publish<K extends keyof Events & string>(event: PublishInput<Events, K>): Promise<PublishResult> {
    this.#assertOpen();
    const prepared = this.#prepare(event, undefined);
    return this.#dispatch(prepared instanceof Promise ? await prepared : prepared);
  }

  /** Publishes several events; if any is invalid the call rejects (naming its index) and none is published. */
  async publishBatch<K extends keyof Events & string>(
    events: readonly PublishInput<Events, K>[],
  ): Promise<PublishResult[]> {
    this.#assertOpen();
    if (!Array.isArray(events))
      throw new InvalidEventError('Expected publishBatch to receive an array of events');
    const prepared = events.map((event, index) => this.#prepare(event, index));
    const ready = prepared.some((p) => p instanceof Promise)
      ? await Promise.all(prepared)
      : (prepared as StoredEvent[]);
    this.#assertOpen();
    const results = ready.map((event) => this.#dispatch(event));
    return results.some((r) => r instanceof Promise) ? Promise.all(results) : (results as PublishResult[]);
  }

  /** Calls `handler` for every matching event until the returned function is called or `signal` aborts. */
  on<P extends PatternOf<Events>>(
    pattern: P | readonly P[],
    handler: (event: EventMatching<Events, P>) => unknown,
    options: OnOptions<EventMatching<Events, P>> = {},
  ): () => void {
    this.#assertOpen();
    if (typeof handler !== 'function') throw new InvalidOptionError('Expected `handler` to be a function');
    checkSelectOptions(options as OnOptions<never>);
    const subscriber = this.#subscriber(pattern, options, handler as EventHandler, undefined);
    const { signal } = options;
    if (signal?.aborted) return () => {};
    const off = (): void => {
      if (!subscriber.active) return;
      this.#unsubscribe(subscriber);
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
    checkSelectOptions(options as OnceOptions<never>);
    const { signal, timeoutMs } = options;
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
      const subscriber = this.#subscriber(pattern, options, (event) => settle(undefined, event), undefined);
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
   * A live AsyncIterable of matching events with a bounded buffer. Release it with `break`,
   * `return()`, `close()`, `signal` or `await using`.
   */
  subscribe<P extends PatternOf<Events>>(
    pattern: P | readonly P[],
    options: SubscribeOptions<EventMatching<Events, P>> = {},
  ): Subscription<EventMatching<Events, P>> {
    this.#assertOpen();
    checkSelectOptions(options as SubscribeOptions<never>);
    if (options.from !== undefined && options.from !== 'now') {
      throw new InvalidOptionError(
        'Expected `from` to be "now": this bus has no store (`store: null`), so there is no history to replay',
      );
    }
    const bufferSize = positiveInteger('bufferSize', options.bufferSize, SUBSCRIBE_DEFAULTS.bufferSize);
    const overflow = checkOverflow(options.overflow);
    const { signal } = options;
    const release = (): void => {
      this.#unsubscribe(subscriber);
      this.#closers.delete(close);
      signal?.removeEventListener('abort', abort);
    };
    const sink = new BufferedSubscription<StoredEvent>(bufferSize, overflow, {
      release,
      dropped: (count) => {
        this.#dropped += count;
      },
      failed: (error) =>
        this.#dispatcher.report(error, { source: 'subscription', patterns: subscriber.sources }),
    });
    const subscriber = this.#subscriber(pattern, options, undefined, sink);
    const close = (): void => sink.close();
    const abort = (): void => void sink.return();
    if (signal?.aborted) {
      void sink.return();
    } else {
      signal?.addEventListener('abort', abort, { once: true });
      this.#closers.add(close);
      this.#index.add(subscriber);
    }
    return sink as unknown as Subscription<EventMatching<Events, P>>;
  }

  /** Resolves once the live feed is positioned: at once without a shared store. */
  ready(): Promise<void> {
    return Promise.resolve();
  }

  stats(): BusStats {
    const patterns = new Map<string, number>();
    this.#index.forEach((s) => {
      for (const p of s.patterns) patterns.set(p.source, (patterns.get(p.source) ?? 0) + 1);
    });
    return {
      published: this.#published,
      delivered: this.#dispatcher.delivered,
      duplicates: 0,
      rateLimited: 0,
      dropped: this.#dropped,
      handlerErrors: this.#dispatcher.handlerErrors,
      pendingHandlers: this.#dispatcher.pending,
      subscriptions: this.#index.size,
      patterns: [...patterns]
        .sort((a, b) => b[1] - a[1])
        .map(([pattern, subscribers]) => ({ pattern, subscribers })),
      streams: this.#streams.top(STATS_TOP_STREAMS),
    };
  }

  /** Resolves when every async handler call started or queued so far has settled (for tests). */
  drain(): Promise<void> {
    return this.#dispatcher.drain();
  }

  /** Stops intake, ends iterators (they still yield what they buffered), rejects pending `once`, drains handlers. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #shutdown(): Promise<void> {
    for (const close of [...this.#closers]) close();
    await this.#dispatcher.drain();
  }

  #assertOpen(): void {
    if (this.#closing) throw new ClosedError('The bus is closed');
  }

  #subscriber(
    pattern: unknown,
    options: { stream?: string; filter?: unknown },
    handler: EventHandler | undefined,
    sink: BufferedSubscription<StoredEvent> | undefined,
  ): Subscriber {
    return new Subscriber(
      parsePatterns(pattern),
      options.stream,
      options.filter as EventFilter,
      handler,
      sink,
    );
  }

  #unsubscribe(subscriber: Subscriber): void {
    if (!subscriber.active) return;
    subscriber.active = false;
    this.#index.remove(subscriber);
  }

  /** Validates one input into a stamped event; asynchronous only when a schema validates asynchronously. */
  #prepare(input: EventInput, index: number | undefined): StoredEvent | Promise<StoredEvent> {
    const problem =
      envelopeProblem(input) ?? (this.#index.lookup(input.type) ? undefined : eventTypeProblem(input.type));
    if (problem !== undefined) throw new InvalidEventError(problem, { index });
    const schema = this.#options.schemas.size > 0 ? this.#options.schemas.get(input.type) : undefined;
    if (schema === undefined) return this.#stamp(input, input.data, index);
    const data = validateData(schema, input.type, input.data, index);
    return data instanceof Promise
      ? data.then((valid) => this.#stamp(input, valid, index))
      : this.#stamp(input, data, index);
  }

  #stamp(input: EventInput, data: unknown, index: number | undefined): StoredEvent {
    const now = this.#options.clock();
    const id = input.id ?? createEventId(now);
    const event: StoredEvent = {
      id,
      type: input.type,
      stream: input.stream ?? EVENT_DEFAULTS.stream,
      time: input.time ?? now,
      data,
      meta: input.meta,
      cursor: id,
    };
    const limit = this.#options.maxEventBytes;
    let bytes: number;
    try {
      bytes = envelopeBytes(event, limit);
    } catch (error) {
      if (!(error instanceof NotSerializableError)) throw error;
      throw new InvalidEventError(`expected "data" to be JSON-serializable: ${error.message}`, {
        index,
        cause: error,
      });
    }
    if (bytes > limit) throw new EventTooLargeError(limit, { index });
    return event;
  }

  #dispatch(event: StoredEvent): PublishResult | Promise<PublishResult> {
    // The type was validated by #prepare; a lookup re-walks the trie only if the entry was evicted since.
    const entry = this.#index.lookup(event.type)!;
    this.#published++;
    this.#streams.count(event.stream);
    const deliveredTo = this.#dispatcher.deliver(event, entry.members);
    const result: PublishResult = { id: event.id, status: 'delivered', deliveredTo };
    const waits = this.#dispatcher.takeBackpressure();
    return waits === undefined ? result : Promise.all(waits).then(() => result);
  }
}
