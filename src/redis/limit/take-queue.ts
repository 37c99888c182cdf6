/** setTimeout fires at once past this (about 24.8 days): longer waits are armed in steps. */
const MAX_TIMER_MS = 2_147_483_647;
/** Counts sent in one script call at most (their sum is also held to `burst`). */
const MAX_BATCH = 100;

/**
 * Where a take stands: `first` came to an empty queue and its first call is under way (like a
 * `tryTake`); `queued` came behind a take whose first call is under way and goes in the next
 * call (held under `maxWaiting`, not yet counted as waiting or limited); `waiting` was refused
 * tokens, or came behind a take that was: counted in `limited` (once) and in `waiting`.
 */
export type WaiterState = 'first' | 'queued' | 'waiting';

/** One `take` call of this process, in line for its key. */
export interface Waiter {
  readonly n: number;
  state: WaiterState;
  /** Served, aborted or rejected: it no longer wants tokens. */
  done: boolean;
  /** Resolves (`served`) or rejects the `take` with `error`, and removes its abort listener. */
  finish(served: boolean, error?: unknown): void;
}

/** What a queue needs from its limiter: the Redis calls for its key, and the counters. */
export interface TakeQueueHost {
  readonly burst: number;
  readonly tokensPerMs: number;
  /** One script call: takes the counts in order while the bucket covers them. */
  takeInOrder(counts: number[]): Promise<{ served: number; left: number }>;
  /** One script call: puts `n` tokens back; resolves with the tokens then in the bucket. */
  giveBack(n: number): Promise<number>;
  /** `waiter` got its tokens. */
  granted(waiter: Waiter): void;
  /**
   * Moves `waiter` to `state` (`queued` or `waiting`) and counts it; returns the error to
   * reject it with instead when `maxWaiting` does not allow it.
   */
  admit(waiter: Waiter, state: 'queued' | 'waiting'): Error | undefined;
  /** `waiter` is done (its `state` says how it was counted). */
  settled(waiter: Waiter): void;
  /** Nothing waits and nothing is in flight: the limiter may forget this queue. */
  drained(): void;
}

/**
 * The `take` calls of one key in this process, served first come first served by one poll
 * loop: the loop asks Redis for the head's tokens (and for those behind it, in order, in the
 * same call), sleeps until the head's tokens are due, and asks again. So a process costs one
 * script call per wake-up however many takes wait, and a later take never overtakes an
 * earlier one. FIFO holds within a process only: processes compete for the shared bucket
 * through Redis, each with its own queue (a process asking more often gets no more tokens:
 * each call takes only what has accrued).
 */
export class TakeQueue {
  readonly waiters: Waiter[] = [];
  readonly #host: TakeQueueHost;
  /** Waiters in state `waiting`. */
  #waiting = 0;
  #running = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #wake: (() => void) | undefined;

  constructor(host: TakeQueueHost) {
    this.#host = host;
  }

  /**
   * Puts a new take in line, behind those already there (it waits from the start if one of
   * them waits). Returns the error to reject it with at once when `maxWaiting` refuses it.
   */
  add(waiter: Waiter): Error | undefined {
    if (this.waiters.length > 0) {
      const refusal = this.#admit(waiter, this.#waiting > 0 ? 'waiting' : 'queued');
      if (refusal !== undefined) return refusal;
    }
    this.waiters.push(waiter);
    if (!this.#running) void this.#run();
    return undefined;
  }

  /** Ends `waiter` at once, wherever it stands in the queue: served, or rejected with `error`. */
  settle(waiter: Waiter, served: boolean, error?: unknown): void {
    if (waiter.done) return;
    waiter.done = true;
    const index = this.waiters.indexOf(waiter);
    if (index >= 0) this.waiters.splice(index, 1);
    if (waiter.state === 'waiting') this.#waiting--;
    this.#host.settled(waiter);
    waiter.finish(served, error);
    // The loop sleeps for the head's tokens: a new head may need fewer (or nobody is left).
    if (index === 0) this.#wakeUp();
  }

  async #run(): Promise<void> {
    this.#running = true;
    try {
      while (this.waiters.length > 0) {
        const batch = this.#batch();
        let reply: { served: number; left: number };
        try {
          reply = await this.#host.takeInOrder(batch.map((waiter) => waiter.n));
        } catch (error) {
          // Redis failed (or timed out): every take of this key would wait on it; none is left hanging.
          for (const waiter of [...this.waiters]) this.settle(waiter, false, error);
          continue;
        }
        let { left } = reply;
        let spare = 0;
        for (const waiter of batch.slice(0, reply.served)) {
          if (waiter.done)
            spare += waiter.n; // aborted while the call was in flight
          else this.#grant(waiter);
        }
        if (spare > 0) left = await this.#handOver(spare, left);
        const head = this.waiters[0];
        if (head === undefined) break;
        if (head.n <= left) continue; // e.g. the head was past the batch's limit: ask at once
        // The head must wait for tokens, so must everyone behind it.
        for (const waiter of [...this.waiters]) {
          if (waiter.state === 'waiting' || waiter.done) continue;
          const refusal = this.#admit(waiter, 'waiting');
          if (refusal !== undefined) this.settle(waiter, false, refusal);
        }
        if (this.waiters.length === 0) break;
        await this.#sleep(Math.ceil((this.waiters[0]!.n - left) / this.#host.tokensPerMs));
      }
    } catch (error) {
      // Not expected (Redis failures are handled above), but no take may be left hanging.
      for (const waiter of [...this.waiters]) this.settle(waiter, false, error);
    } finally {
      this.#running = false;
      this.#host.drained();
    }
  }

  #admit(waiter: Waiter, state: 'queued' | 'waiting'): Error | undefined {
    const refusal = this.#host.admit(waiter, state);
    if (refusal === undefined && state === 'waiting') this.#waiting++;
    return refusal;
  }

  /** The head and those behind it, in order, as long as their sum fits in one bucket. */
  #batch(): Waiter[] {
    const batch: Waiter[] = [];
    let sum = 0;
    for (const waiter of this.waiters) {
      if (batch.length >= MAX_BATCH || (batch.length > 0 && sum + waiter.n > this.#host.burst)) break;
      batch.push(waiter);
      sum += waiter.n;
    }
    return batch;
  }

  #grant(waiter: Waiter): void {
    this.#host.granted(waiter);
    this.settle(waiter, true);
  }

  /**
   * Tokens taken for takes aborted while their call was in flight: the next waiters in order
   * get them (no call needed), and what none of them can use goes back to the bucket. If that
   * give-back fails, those tokens stay taken, as if used; they refill at the normal rate.
   */
  async #handOver(spare: number, left: number): Promise<number> {
    let rest = spare;
    while (this.waiters.length > 0 && this.waiters[0]!.n <= rest) {
      rest -= this.waiters[0]!.n;
      this.#grant(this.waiters[0]!);
    }
    if (rest <= 0) return left;
    try {
      return await this.#host.giveBack(rest);
    } catch {
      return left;
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.#wake = resolve;
      this.#timer = setTimeout(() => this.#wakeUp(), Math.min(Math.max(1, ms), MAX_TIMER_MS));
    });
  }

  #wakeUp(): void {
    const wake = this.#wake;
    if (wake === undefined) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#wake = undefined;
    wake();
  }
}
