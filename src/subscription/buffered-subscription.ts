import { BufferOverflowError } from '../errors.js';
import { BLOCKED_PUBLISHES_LIMIT, type Inbox, RoomWaiters } from './inbox.js';
import { RingBuffer } from './ring-buffer.js';
import { TAKE_BUFFERED } from './subscription-symbols.js';

/**
 * What a subscription does when its buffer is full and another event arrives. With a store,
 * a full subscription catches up from the store instead (no event lost, nobody slowed) unless
 * one of the drop or error policies is asked for explicitly; these apply as written below.
 * - `drop-oldest` (default without a store): the oldest buffered event is discarded and counted.
 * - `drop-newest`: the arriving event is discarded and counted.
 * - `error`: the subscription stops taking events; after the buffered ones the iterator throws `BufferOverflowError`.
 * - `block`: `publish` waits until the reader makes room (backpressure on publishers that await,
 *   cancellable with the publish's `signal`). At most max(`bufferSize`, 1024) more events wait
 *   for room: publishers that do not await past that end the subscription with
 *   `BufferOverflowError`, so memory stays bounded.
 */
export type OverflowPolicy = 'block' | 'drop-oldest' | 'drop-newest' | 'error';

/** The policy a subscription runs under: one of the above, or `catch-up` (a store reads what the reader missed). */
export type ActivePolicy = OverflowPolicy | 'catch-up';

export interface SubscriptionStats {
  bufferSize: number;
  /** `catch-up` with a store (unless a drop or error policy was asked for). */
  overflow: ActivePolicy;
  /** Events waiting to be read (including, under `block`, the ones whose publishers wait). */
  buffered: number;
  /** Events handed to this subscription. */
  received: number;
  /** Events the reader has taken. */
  yielded: number;
  /** Events discarded by the overflow policy. */
  dropped: number;
  /** `open`: taking events; `closing`: no new events, buffered ones still readable; `closed`: done. */
  state: 'open' | 'closing' | 'closed';
}

/** A live stream of events: `for await` it, and `break`, `close()`, abort or dispose to release it. */
export interface Subscription<E> extends AsyncIterableIterator<E, undefined> {
  /** Stops taking new events; events already buffered are still yielded, then the iteration ends. */
  close(): void;
  /** Ends the iteration now, discarding buffered events (what `break` in `for await` calls). */
  return(): Promise<IteratorReturnResult<undefined>>;
  stats(): SubscriptionStats;
  [Symbol.asyncDispose](): Promise<void>;
}

/** How a subscription talks back to its bus. */
export interface SubscriptionOwner {
  /** Called once when the subscription stops taking events, so the bus unsubscribes it. */
  release(): void;
  /** Called for every event discarded by the overflow policy. */
  dropped(count: number): void;
  /** Called when the subscription fails (`overflow: 'error'` tripped, or its replay failed). */
  failed(error: Error): void;
}

interface Waiter<E> {
  resolve(result: IteratorResult<E, undefined>): void;
  reject(error: unknown): void;
}

interface BlockedPush<E> {
  event: E;
  resume(): void;
}

const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });

/**
 * The bounded AsyncIterable behind `bus.subscribe`. Unlike emittery's or node's `on()`
 * iterators, its queue never grows past `bufferSize`: the overflow policy decides, and
 * every discarded event is counted.
 */
export class BufferedSubscription<E> implements Subscription<E>, Inbox<E> {
  readonly #buffer: RingBuffer<E>;
  readonly #overflow: ActivePolicy;
  readonly #owner: SubscriptionOwner;
  #waiters: Waiter<E>[] = [];
  /** Under `block`: events that arrived while the buffer was full, in order, with their publishers. */
  #blocked: BlockedPush<E>[] = [];
  /** A catch-up waiting for the reader to make room. */
  readonly #room = new RoomWaiters();
  #state: SubscriptionStats['state'] = 'open';
  #failure: Error | undefined;
  #received = 0;
  #yielded = 0;
  #dropped = 0;

  constructor(bufferSize: number, overflow: ActivePolicy, owner: SubscriptionOwner) {
    this.#buffer = new RingBuffer(bufferSize);
    this.#overflow = overflow;
    this.#owner = owner;
  }

  /**
   * Offers an event. Returns a promise only under `block` with a full buffer: it resolves
   * when the reader has taken the event into the buffer or the subscription ended.
   */
  push(event: E): Promise<void> | undefined {
    if (this.#state !== 'open') return undefined;
    this.#received++;
    const waiter = this.#waiters.shift();
    if (waiter) {
      this.#yielded++;
      waiter.resolve({ done: false, value: event });
      return undefined;
    }
    if (!this.#buffer.isFull()) {
      this.#buffer.push(event);
      return undefined;
    }
    switch (this.#overflow) {
      case 'drop-oldest':
        this.#buffer.shift();
        this.#buffer.push(event);
        this.#countDrop();
        return undefined;
      case 'drop-newest':
        this.#countDrop();
        return undefined;
      case 'error':
        this.#countDrop();
        this.fail(
          new BufferOverflowError(
            `Subscription buffer of ${this.#buffer.capacity} events overflowed (overflow: 'error'); the reader fell behind`,
          ),
        );
        return undefined;
      // A CatchUp never pushes to a full buffer under `catch-up`; were it to, waiting is the safe answer.
      case 'catch-up':
      case 'block':
        if (this.#blocked.length >= Math.max(this.#buffer.capacity, BLOCKED_PUBLISHES_LIMIT)) {
          this.#countDrop();
          this.fail(
            new BufferOverflowError(
              `Subscription buffer of ${this.#buffer.capacity} events is full and ${this.#blocked.length} more wait for room (overflow: 'block'); publishers did not wait for the backpressure`,
            ),
          );
          return undefined;
        }
        return new Promise<void>((resume) => this.#blocked.push({ event, resume }));
    }
  }

  hasRoom(): boolean {
    return this.#state === 'open' && (this.#waiters.length > 0 || !this.#buffer.isFull());
  }

  /** Takes an event the caller made room for (see `whenRoom`); overflow policies do not apply. */
  accept(event: E): void {
    if (this.#state !== 'open') return;
    this.#received++;
    const waiter = this.#waiters.shift();
    if (waiter) {
      this.#yielded++;
      waiter.resolve({ done: false, value: event });
    } else this.#buffer.push(event);
  }

  whenRoom(): Promise<void> {
    if (this.#state !== 'open' || this.hasRoom()) return Promise.resolve();
    return this.#room.wait();
  }

  /** True while the subscription takes events. */
  get isOpen(): boolean {
    return this.#state === 'open';
  }

  /**
   * Stops intake and makes the reader throw `error` after the events already buffered
   * (a waiting reader gets it at once).
   */
  fail(error: Error): void {
    if (this.#state !== 'open') return;
    this.#state = 'closing';
    this.#owner.release();
    this.#owner.failed(error);
    for (const blocked of this.#blocked) blocked.resume();
    this.#room.wakeAll();
    if (this.#waiters.length > 0) {
      this.#state = 'closed';
      for (const waiter of this.#waiters.splice(0)) waiter.reject(error);
    } else {
      this.#failure = error;
    }
  }

  next(): Promise<IteratorResult<E, undefined>> {
    if (this.#buffer.length > 0) return Promise.resolve({ done: false, value: this.#shiftBuffered() });
    const blocked = this.#blocked.shift(); // only after close(): the buffer drained first
    if (blocked) {
      this.#yielded++;
      return Promise.resolve({ done: false, value: blocked.event });
    }
    if (this.#failure) {
      const failure = this.#failure;
      this.#failure = undefined;
      this.#state = 'closed';
      return Promise.reject(failure);
    }
    if (this.#state !== 'open') {
      this.#state = 'closed';
      return Promise.resolve(DONE);
    }
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  /**
   * The next buffered item, taken at once, or `undefined` when none is buffered (then `next()`
   * tells what comes: a later event, the end or the failure). For a reader that drains what is
   * already there without a promise per item (the SSE helper).
   */
  [TAKE_BUFFERED](): E | undefined {
    return this.#buffer.length > 0 ? this.#shiftBuffered() : undefined;
  }

  get held(): number {
    return this.#buffer.length + this.#blocked.length;
  }

  #shiftBuffered(): E {
    const value = this.#buffer.shift() as E;
    this.#admitBlocked();
    if (this.#room.size > 0) this.#room.wakeOne();
    this.#yielded++;
    return value;
  }

  close(): void {
    if (this.#state !== 'open') return;
    this.#state = 'closing';
    this.#owner.release();
    // Publishers waiting on a full buffer are let go; their events stay queued for the reader.
    for (const blocked of this.#blocked) blocked.resume();
    this.#room.wakeAll();
    this.#endWaiters();
  }

  return(): Promise<IteratorReturnResult<undefined>> {
    const wasOpen = this.#state === 'open';
    this.#state = 'closed';
    this.#failure = undefined;
    this.#buffer.clear();
    for (const blocked of this.#blocked) blocked.resume();
    this.#blocked = [];
    this.#room.wakeAll();
    this.#endWaiters();
    if (wasOpen) this.#owner.release();
    return Promise.resolve(DONE);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.return();
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  stats(): SubscriptionStats {
    return {
      bufferSize: this.#buffer.capacity,
      overflow: this.#overflow,
      buffered: this.#buffer.length + this.#blocked.length,
      received: this.#received,
      yielded: this.#yielded,
      dropped: this.#dropped,
      state: this.#state,
    };
  }

  #admitBlocked(): void {
    if (this.#state !== 'open') return; // after close() blocked events are read in turn by next()
    const blocked = this.#blocked.shift();
    if (!blocked) return;
    this.#buffer.push(blocked.event);
    blocked.resume();
  }

  #countDrop(): void {
    this.#dropped++;
    this.#owner.dropped(1);
  }

  #endWaiters(): void {
    if (this.#waiters.length === 0) return;
    if (this.#state === 'closing' && this.#buffer.length === 0 && this.#blocked.length === 0)
      this.#state = 'closed';
    for (const waiter of this.#waiters.splice(0)) waiter.resolve(DONE);
  }
}
