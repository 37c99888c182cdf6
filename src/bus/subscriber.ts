import type { StoredEvent } from '../event.js';
import type { ParsedPattern } from '../pattern/parse.js';
import type { IndexedMember } from '../pattern/subscription-index.js';
import type { TrieSlot } from '../pattern/trie.js';

export type EventFilter = (event: StoredEvent) => boolean;
export type EventHandler = (event: StoredEvent) => unknown;

/** Where an iterator subscriber's events go: its subscription, or a replay handover in front of it. */
export interface EventSink {
  /** Returns a promise only when the sink applies backpressure (`overflow: 'block'`). */
  push(event: StoredEvent): Promise<void> | undefined;
}

let nextSeq = 1;

/**
 * One `on`, `once` or `subscribe` registration. Exactly one of `handler` and `sink` is set;
 * every subscriber has the same shape, so the dispatch loop stays monomorphic.
 */
export class Subscriber implements IndexedMember {
  /** Creation order = delivery order. */
  readonly seq = nextSeq++;
  matchStamp = 0;
  trieSlots: TrieSlot | TrieSlot[] | undefined = undefined;
  /** Cleared on unsubscribe, so a dispatch already holding this subscriber skips it. */
  active = true;
  /** Set for handlers that are async functions or have returned a promise: they run through the queue. */
  isAsync: boolean;

  constructor(
    readonly patterns: readonly ParsedPattern[],
    readonly stream: string | undefined,
    readonly filter: EventFilter | undefined,
    readonly handler: EventHandler | undefined,
    readonly sink: EventSink | undefined,
  ) {
    // A plain function's prototype is Function.prototype: only other functions need the name check.
    this.isAsync =
      handler !== undefined &&
      Object.getPrototypeOf(handler) !== Function.prototype &&
      handler.constructor?.name === 'AsyncFunction';
  }

  /** The patterns as written, for stats and error reports. */
  get sources(): string[] {
    return this.patterns.map((p) => p.source);
  }
}
