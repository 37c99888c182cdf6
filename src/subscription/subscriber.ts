import type { StoredEvent } from '../event.js';
import type { ParsedPattern } from '../pattern/parse.js';
import type { IndexedMember } from '../pattern/subscription-index.js';
import type { TrieSlot } from '../pattern/trie.js';
import type { HandlerQueue } from './handler-queue.js';

export type EventFilter = (event: StoredEvent) => boolean;
export type EventHandler = (event: StoredEvent) => unknown;

/** Where a subscriber's events go: its iterator or handler queue, or a CatchUp in front of either. */
export interface EventSink {
  /** Returns a promise only when the sink applies backpressure (`block`, no store). */
  push(event: StoredEvent): Promise<void> | undefined;
  /** Events waiting in it for the reader or the handler (for `bus.stats()`). */
  readonly held: number;
  /** True while it reads the store (a replay, or a catch-up after falling behind). */
  readonly catchingUp?: boolean;
  /** While catching up: how many events it is known to be behind (see CatchUp). */
  readonly behind?: number;
}

/** The size of an `on()` subscription's queue of async calls. */
export interface QueueOptions {
  concurrency: number;
  maxPending: number;
}

/** An async handler's queue, and the sink in front of it (the queue itself, or a CatchUp). */
export interface HandlerSink {
  queue: HandlerQueue;
  sink: EventSink;
}

let nextSeq = 1;

/**
 * One `on`, `once` or `subscribe` registration. A subscriber with a `sink` gets its events
 * pushed there; one without calls `handler` inline (a plain function). Every subscriber has
 * the same shape, so the dispatch loop stays monomorphic.
 */
export class Subscriber implements IndexedMember {
  /** Creation order = delivery order. */
  readonly seq = nextSeq++;
  matchStamp = 0;
  trieSlots: TrieSlot | TrieSlot[] | undefined = undefined;
  /** Cleared on unsubscribe, so a dispatch already holding this subscriber skips it. */
  active = true;
  /** What a delivery counts toward `deliveredTo` and `delivered`: 0 for the bus's internal watchers. */
  readonly weight: 0 | 1;
  sink: EventSink | undefined;
  /** The queue of an async handler, made on first need. */
  queue: HandlerQueue | undefined;
  /** Makes the queue (one function per bus, shared: `on()` stays cheap to call and undo). */
  readonly #makeQueue: ((subscriber: Subscriber) => HandlerSink) | undefined;

  /**
   * @param makeQueue set for `on()` handlers: builds their queue when they turn out async
   * @param queueOptions that queue's size
   * @param internal the bus's own watcher (consumer-group wake-ups): not counted anywhere
   */
  constructor(
    readonly patterns: readonly ParsedPattern[],
    readonly stream: string | undefined,
    readonly filter: EventFilter | undefined,
    readonly handler: EventHandler | undefined,
    sink: EventSink | undefined,
    makeQueue?: (subscriber: Subscriber) => HandlerSink,
    readonly queueOptions?: QueueOptions,
    internal = false,
  ) {
    this.sink = sink;
    this.weight = internal ? 0 : 1;
    this.#makeQueue = makeQueue;
    // A plain function's prototype is Function.prototype: only other functions need the name check.
    if (
      handler !== undefined &&
      Object.getPrototypeOf(handler) !== Function.prototype &&
      handler.constructor?.name === 'AsyncFunction'
    )
      this.becomeAsync();
  }

  /** True for an `on()` handler: it can be given a queue (and, with a store, a catch-up). */
  get canQueue(): boolean {
    return this.#makeQueue !== undefined;
  }

  /** Routes the handler's calls through its own queue from now on; returns the queue. */
  becomeAsync(): HandlerQueue {
    if (this.queue === undefined) {
      const made = this.#makeQueue!(this);
      this.queue = made.queue;
      this.sink = made.sink;
    }
    return this.queue;
  }

  /** The patterns as written, for stats and error reports. */
  get sources(): string[] {
    return this.patterns.map((p) => p.source);
  }
}
