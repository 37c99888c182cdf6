import { BufferOverflowError } from '../errors.js';
import type { StoredEvent } from '../event.js';
import { BLOCKED_PUBLISHES_LIMIT, type Inbox, RoomWaiters } from './inbox.js';
import { RingBuffer } from './ring-buffer.js';

export interface HandlerQueueOptions {
  /** Calls of this subscription's handler running at once; 1 keeps them in delivery order. */
  concurrency: number;
  /** Calls waiting for a free slot; past it a store-backed subscription catches up, one without a store blocks `publish`. */
  maxPending: number;
}

/** How a queue reports back to its bus. */
export interface HandlerQueueHooks {
  /** A call threw or rejected. */
  failed(error: unknown, event: StoredEvent): void;
  /** Calls queued (+n) or settled or cancelled (-n): the bus's `drain()` and `pendingHandlers`. */
  pending(delta: number): void;
  /** A call discarded because publishers ignored the backpressure (no store only). */
  dropped(error: BufferOverflowError, event: StoredEvent): void;
}

interface BlockedCall {
  event: StoredEvent;
  resume(): void;
}

/**
 * The queue of one `on()` subscription's async handler calls. Each subscription has its own,
 * so one slow handler never delays another, unsubscribing cancels the calls still queued, and
 * memory stays bounded: at most `concurrency` running and `maxPending` waiting.
 *
 * What happens past `maxPending` is decided in front of the queue: with a store, a CatchUp
 * stops feeding it live events and reads what it missed from the store once there is room.
 * Without a store, `push` returns a promise that `publish` waits on (backpressure); at most
 * max(`maxPending`, 1024) more calls may wait that way, and past that a call is dropped and reported
 * (a publisher that does not await cannot grow memory without bound).
 */
export class HandlerQueue implements Inbox<StoredEvent> {
  readonly #handler: (event: StoredEvent) => unknown;
  readonly #options: HandlerQueueOptions;
  readonly #hooks: HandlerQueueHooks;
  readonly #queue: RingBuffer<StoredEvent>;
  readonly #room = new RoomWaiters();
  #blocked: BlockedCall[] = [];
  #running = 0;
  #open = true;

  constructor(
    handler: (event: StoredEvent) => unknown,
    options: HandlerQueueOptions,
    hooks: HandlerQueueHooks,
  ) {
    this.#handler = handler;
    this.#options = options;
    this.#hooks = hooks;
    this.#queue = new RingBuffer(options.maxPending);
  }

  get isOpen(): boolean {
    return this.#open;
  }

  get held(): number {
    return this.#queue.length + this.#blocked.length;
  }

  hasRoom(): boolean {
    return this.#open && this.#blocked.length === 0 && this.#queue.length < this.#queue.capacity;
  }

  accept(event: StoredEvent): void {
    if (!this.#open) return;
    this.#hooks.pending(1);
    if (this.#running < this.#options.concurrency && this.#queue.length === 0) this.#start(event);
    else this.#queue.push(event);
  }

  whenRoom(): Promise<void> {
    if (!this.#open || this.hasRoom()) return Promise.resolve();
    return this.#room.wait();
  }

  /** A live event with no catch-up in front: queued, or (queue full) a promise for backpressure. */
  push(event: StoredEvent): Promise<void> | undefined {
    if (!this.#open) return undefined;
    if (this.hasRoom()) {
      this.accept(event);
      return undefined;
    }
    if (this.#blocked.length >= Math.max(this.#queue.capacity, BLOCKED_PUBLISHES_LIMIT)) {
      this.#hooks.dropped(
        new BufferOverflowError(
          `Handler queue of ${this.#queue.capacity} calls is full and ${this.#blocked.length} more wait for room; publishers did not wait for the backpressure, so this call was dropped`,
        ),
        event,
      );
      return undefined;
    }
    this.#hooks.pending(1);
    return new Promise<void>((resume) => this.#blocked.push({ event, resume }));
  }

  /** A call the dispatcher started itself (a plain function that returned a promise): it holds a slot until it settles. */
  track(result: PromiseLike<unknown>, event: StoredEvent): void {
    this.#hooks.pending(1);
    this.#running++;
    this.#settle(Promise.resolve(result), event);
  }

  /**
   * The bus is closing: publishers waiting for room are let go (their calls stay queued and
   * run if the handler frees a slot before the bus stops waiting), as a closing iterator does.
   */
  letPublishersGo(): void {
    for (const blocked of this.#blocked) blocked.resume();
  }

  /** Unsubscribed: queued calls are cancelled (running ones finish), waiting publishers are let go. */
  cancel(): void {
    if (!this.#open) return;
    this.#open = false;
    const cancelled = this.#queue.length + this.#blocked.length;
    this.#queue.clear();
    for (const blocked of this.#blocked) blocked.resume();
    this.#blocked = [];
    if (cancelled > 0) this.#hooks.pending(-cancelled);
    this.#room.wakeAll();
  }

  #start(event: StoredEvent): void {
    this.#running++;
    let result: unknown;
    try {
      result = this.#handler(event);
    } catch (error) {
      result = Promise.reject(error);
    }
    this.#settle(Promise.resolve(result), event);
  }

  #settle(result: Promise<unknown>, event: StoredEvent): void {
    result.then(
      () => this.#done(),
      (error: unknown) => {
        this.#hooks.failed(error, event);
        this.#done();
      },
    );
  }

  #done(): void {
    this.#running--;
    this.#hooks.pending(-1);
    if (!this.#open) return;
    while (this.#running < this.#options.concurrency && this.#queue.length > 0) {
      this.#start(this.#queue.shift()!);
      this.#admitBlocked();
    }
    if (this.#room.size > 0 && this.hasRoom()) this.#room.wakeOne();
  }

  /** Moves the oldest blocked call into the queue and lets its publisher go on. */
  #admitBlocked(): void {
    const blocked = this.#blocked.shift();
    if (blocked === undefined) return;
    this.#queue.push(blocked.event);
    blocked.resume();
  }
}
