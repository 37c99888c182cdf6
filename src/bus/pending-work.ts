/**
 * Counts work in flight (queued and running handler calls, handler catch-ups) so `drain()`
 * can wait for it and `stats()` can report it, without a bus-wide queue.
 */
export class PendingWork {
  #count = 0;
  #idle: (() => void)[] = [];

  get size(): number {
    return this.#count;
  }

  change(delta: number): void {
    this.#count += delta;
    if (this.#count === 0 && this.#idle.length > 0) for (const resolve of this.#idle.splice(0)) resolve();
  }

  /** Resolves when nothing is in flight (at once when nothing is). */
  whenIdle(): Promise<void> {
    if (this.#count === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }
}
