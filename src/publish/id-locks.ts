/**
 * One lock per event id, handed over first come, first served. A publish of a given id that
 * has to wait for something before its outcome is known (a `has` answer, an async or `delay`
 * rate limit, another publish of the same id) holds its id's lock until the bus has stored
 * (or, without a store, delivered) the event, or given up. Another publish of that id waits
 * for the lock, then is judged again: it is a duplicate if the first one got through, and goes
 * ahead if the first failed. A queue, not a single slot: three publishes of one id must not
 * end up waiting for each other.
 */
export class IdLocks {
  readonly #locks = new Map<
    string,
    { owner: object; waiting: { owner: object; take: () => void; drop: (reason: unknown) => void }[] }
  >();
  /** Publishes (owners) that waited for a lock: they are judged exactly (see `holderWaited`). */
  readonly #waited = new WeakSet<object>();

  get size(): number {
    return this.#locks.size;
  }

  /** Held by someone other than `owner`. */
  isHeldByOther(id: string, owner: object): boolean {
    const lock = this.#locks.get(id);
    return lock !== undefined && lock.owner !== owner;
  }

  /**
   * The publish holding `id` waited for another publish of one of its ids (a batch: of any of
   * them). The gate then asks exactly whether `id` got through meanwhile, however long the
   * wait was.
   */
  holderWaited(id: string): boolean {
    const lock = this.#locks.get(id);
    return lock !== undefined && this.#waited.has(lock.owner);
  }

  /**
   * Takes the lock now if it is free (returns undefined), else a promise that resolves once
   * `owner` holds it, or rejects with the signal's reason if `signal` aborts first (the place
   * in line is given up).
   */
  acquire(id: string, owner: object, signal?: AbortSignal): Promise<void> | undefined {
    const lock = this.#locks.get(id);
    if (lock === undefined) {
      this.#locks.set(id, { owner, waiting: [] });
      return undefined;
    }
    if (lock.owner === owner) return undefined;
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise((take, drop) => {
      const onAbort = (): void => {
        const index = lock.waiting.indexOf(entry);
        if (index >= 0) lock.waiting.splice(index, 1);
        drop(signal!.reason);
      };
      const entry = {
        owner,
        take: () => {
          signal?.removeEventListener('abort', onAbort);
          take();
        },
        drop,
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      lock.waiting.push(entry);
    });
  }

  /** Releases the lock if `owner` holds it, handing it to the next in line. */
  release(id: string, owner: object): void {
    const lock = this.#locks.get(id);
    if (lock === undefined || lock.owner !== owner) return;
    const next = lock.waiting.shift();
    if (next === undefined) {
      this.#locks.delete(id);
      return;
    }
    lock.owner = next.owner;
    this.#waited.add(next.owner);
    next.take();
  }
}
