/**
 * Bounds how many store reads a bus's replays and catch-ups run at once. Each read holds a
 * slot only while it runs (not while its reader is slow), so a crowd of clients resuming at
 * once (each SSE reconnect is a replay) queues up instead of all scanning the store together.
 */
export class ReadSlots {
  readonly #limit: number;
  #inUse = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(limit: number) {
    this.#limit = limit;
  }

  /** Runs `read` in a slot, waiting first-come first-served for one when all are taken. */
  async run<T>(read: () => Promise<T>): Promise<T> {
    if (this.#inUse >= this.#limit) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    else this.#inUse++;
    try {
      return await read();
    } finally {
      const next = this.#waiting.shift();
      // The slot passes straight to the next reader; `#inUse` stays the same.
      if (next !== undefined) next();
      else this.#inUse--;
    }
  }

  /** Reads running now. */
  get inUse(): number {
    return this.#inUse;
  }

  /** Reads waiting for a slot. */
  get waiting(): number {
    return this.#waiting.length;
  }
}
