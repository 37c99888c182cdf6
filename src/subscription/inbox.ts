/**
 * A bounded receiver of events: an iterator's buffer (BufferedSubscription) or an `on()`
 * handler's queue (HandlerQueue). A CatchUp in front of it asks for room before it hands over
 * an event, so an inbox never holds more than its capacity of events read from the store.
 */
export interface Inbox<E> {
  /** False once the subscription stopped taking events (closed, failed, unsubscribed). */
  readonly isOpen: boolean;
  /** Events given to it and not yet taken by the reader or the handler (for `bus.stats()`). */
  readonly held: number;
  /** True when `accept` can take one more event without passing the bound. */
  hasRoom(): boolean;
  /** Takes an event; the caller checked `hasRoom()` first. */
  accept(event: E): void;
  /** Resolves once there is room, or once the inbox stopped taking events. */
  whenRoom(): Promise<void>;
  /**
   * What a full inbox does with a live event when there is no catch-up (no store, or an
   * explicit drop/error policy): drop, fail, or a promise for backpressure (`block`).
   */
  push(event: E): Promise<void> | undefined;
}

/**
 * Without a store, under backpressure (`block`), how many more events may wait for room past
 * a full inbox (at least this many, or the inbox's capacity if larger). Publishers that await
 * never come near it; ones that fire without awaiting would otherwise grow memory without bound.
 */
export const BLOCKED_PUBLISHES_LIMIT = 1024;

/** A list of callbacks waiting for room: resolved one at a time as room frees, or all at once at the end. */
export class RoomWaiters {
  #waiting: (() => void)[] = [];

  wait(): Promise<void> {
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  get size(): number {
    return this.#waiting.length;
  }

  wakeOne(): void {
    this.#waiting.shift()?.();
  }

  wakeAll(): void {
    for (const resolve of this.#waiting.splice(0)) resolve();
  }
}
