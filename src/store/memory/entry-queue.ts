/** One stored event with its bookkeeping. `event` is null once removed (a tombstone in the global log). */
export interface Entry<S> {
  readonly seq: number;
  readonly storedAt: number;
  readonly stream: S;
  event: import('../../event.js').StoredEvent | null;
}

/**
 * Entries in ascending `seq`, removable from the front in O(1) (a moving head, compacted
 * now and then) and searchable by `seq` in O(log n).
 */
export class EntryQueue<S> {
  #items: Entry<S>[] = [];
  #head = 0;

  get length(): number {
    return this.#items.length - this.#head;
  }

  push(entry: Entry<S>): void {
    this.#items.push(entry);
  }

  /** The entry at position `i` from the front. */
  at(i: number): Entry<S> | undefined {
    return this.#items[this.#head + i];
  }

  first(): Entry<S> | undefined {
    return this.#items[this.#head];
  }

  shift(): Entry<S> | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const entry = this.#items[this.#head];
    this.#items[this.#head++] = undefined as never;
    // Compact once the dead prefix dominates, so memory follows the live length.
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return entry;
  }

  /** Keeps only entries that pass `keep` (drops tombstones in bulk). */
  retain(keep: (entry: Entry<S>) => boolean): void {
    this.#items = this.#items.slice(this.#head).filter(keep);
    this.#head = 0;
  }

  /** Position of the first entry with `seq > afterSeq` (length when none). */
  indexAfter(afterSeq: number): number {
    let lo = this.#head;
    let hi = this.#items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#items[mid]!.seq <= afterSeq) lo = mid + 1;
      else hi = mid;
    }
    return lo - this.#head;
  }
}
