import { cursorOf } from './cursors.js';
import type { FaultFlags } from './flags.js';
import { HistoryTruncatedError, type StoredEvent } from './lib.js';
import type { Prng } from './prng.js';
import type { Scheduler } from './scheduler.js';
import type { SimStore } from './sim-store.js';

/**
 * One tail: an async iterator over the store's log from a position. Events reach it after the
 * feed's lag (its "carried" mark), and are handed out one `next()` at a time — at once in a
 * burst, or through a scheduler step so other tasks interleave.
 */
export class TailConnection implements AsyncIterator<StoredEvent> {
  /** The seq of the last event handed out. */
  #position: number;
  /** Events up to this seq have reached this connection. */
  #carried: number;
  /** When the last scheduled carry lands: carries keep store order. */
  #lastCarryAt = 0;
  #stalledUntil = 0;
  #waiter: { resolve: (r: IteratorResult<StoredEvent>) => void; reject: (e: unknown) => void } | undefined;
  #failure: Error | undefined;
  #done = false;
  /** The bus whose feed reads this connection (set by the store), for hand-over records. */
  owner: number | undefined;
  /** The feed's TailOptions.skip, when this connection honours it: such events are left out. */
  skip: ((id: string, type: string, cursor: () => string) => boolean) | undefined;
  /** When events up to each seq reached this connection (ascending), for the latency check. */
  readonly #offers: { upTo: number; at: number }[] = [];
  readonly #burst: boolean;
  readonly #onAbort: () => void;

  constructor(
    readonly store: SimStore,
    readonly sched: Scheduler,
    readonly rng: Prng,
    readonly faults: FaultFlags,
    readonly id: number,
    position: number,
    readonly signal: AbortSignal,
  ) {
    this.#position = position;
    this.#carried = store.log.length;
    this.#offers.push({ upTo: this.#carried, at: sched.now });
    this.#burst = faults.feedBursts && rng.chance(0.5);
    this.#onAbort = () => {
      sched.log(`store.tail#${id} aborted by its reader${this.#waiter ? '' : ' (no next() pending)'}`);
      this.pump();
    };
    signal.addEventListener('abort', this.#onAbort, { once: true });
  }

  next(): Promise<IteratorResult<StoredEvent>> {
    if (this.#done) return Promise.resolve({ done: true, value: undefined });
    if (this.#waiter) return Promise.reject(new Error('sim tail: next() while a next() is pending'));
    const promise = new Promise<IteratorResult<StoredEvent>>((resolve, reject) => {
      this.#waiter = { resolve, reject };
    });
    // A burst connection hands out what is ready without a pause; another one goes through
    // a scheduler step, so each event can interleave with everything else.
    if (this.#burst) this.pump();
    else this.sched.schedule(0, `store.tail#${this.id} next`, () => this.pump());
    return promise;
  }

  async return(): Promise<IteratorResult<StoredEvent>> {
    this.sched.log(`store.tail#${this.id} return()`);
    this.#finish();
    return { done: true, value: undefined };
  }

  /** A new event was stored: it reaches this connection after the feed's lag. */
  appended(): void {
    const seq = this.store.log.length;
    if (this.#stalledUntil > this.sched.now) return; // carried in one burst when the stall ends
    const lag = this.faults.feedLag && !this.store.calm ? this.rng.int(0, 60) : 0;
    this.#lastCarryAt = Math.max(this.#lastCarryAt, this.sched.now + lag);
    this.sched.schedule(
      this.#lastCarryAt - this.sched.now,
      `store.tail#${this.id} carries seq ${seq}`,
      () => {
        if (seq > this.#carried) this.#carry(seq);
        this.pump();
      },
    );
  }

  stall(ms: number): void {
    this.#stalledUntil = this.sched.now + ms;
    this.sched.schedule(ms, `store.tail#${this.id} stall ends (burst)`, () => {
      this.#carry(this.store.log.length);
      this.pump();
    });
  }

  fail(error: Error): void {
    if (this.#done) return;
    this.#failure = error;
    this.store.forget(this);
    this.pump();
  }

  pump(): void {
    const waiter = this.#waiter;
    if (waiter === undefined) return;
    if (this.signal.aborted || (this.#done && this.#failure === undefined)) {
      this.#waiter = undefined;
      this.#finish();
      waiter.resolve({ done: true, value: undefined });
      return;
    }
    if (this.#failure !== undefined) {
      this.#waiter = undefined;
      const failure = this.#failure;
      this.#finish();
      waiter.reject(failure);
      return;
    }
    if (this.#position < this.store.trimmedHigh) {
      this.#waiter = undefined;
      this.#finish();
      this.sched.log(`store.tail#${this.id} throws HISTORY_TRUNCATED (position seq ${this.#position})`);
      waiter.reject(
        new HistoryTruncatedError(`simulated: events after ${cursorOf(this.#position)} were trimmed`, {
          after: cursorOf(this.#position),
          oldest: cursorOf(this.store.trimmedHigh + 1),
        }),
      );
      return;
    }
    // Left out undecoded, as the Redis tail does: the bus said no one there wants them.
    while (this.skip !== undefined && this.#position < Math.min(this.#carried, this.store.log.length)) {
      const next = this.store.log[this.#position]!;
      if (!this.skip(next.event.id, next.event.type, () => next.event.cursor)) break;
      this.#position++;
    }
    if (this.#position < Math.min(this.#carried, this.store.log.length)) {
      this.#waiter = undefined;
      this.#position++;
      if (this.owner !== undefined)
        this.store.handedOver(this.owner, this.#position, this.#offeredAt(this.#position));
      const record = this.store.log[this.#position - 1]!;
      waiter.resolve({ done: false, value: { ...record.event } });
    }
  }

  #carry(seq: number): void {
    this.#carried = seq;
    this.#offers.push({ upTo: seq, at: this.sched.now });
  }

  /** When `seq` reached this connection: the first offer covering it (offers only grow). */
  #offeredAt(seq: number): number {
    while (this.#offers.length > 1 && this.#offers[0]!.upTo < seq) this.#offers.shift();
    return this.#offers[0]!.at;
  }

  #finish(): void {
    this.#done = true;
    this.signal.removeEventListener('abort', this.#onAbort);
    this.store.forget(this);
  }
}
