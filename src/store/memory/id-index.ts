import type { Entry } from './entry-queue.js';

/**
 * The retained entries by event id. Ids the caller vouches for as ascending (the bus's own
 * UUIDv7s, monotonic within the process) go into a sorted array when they do sort after the
 * greatest so far: adding one is a string compare and a push, removing one is marking its
 * entry dead, and a lookup is a binary search. Every other id goes into a Map, so an id
 * given by a user (`order-17` sorts after every UUID) never pushes the bus's ids out of the
 * sorted array. A 100,000-entry Map paid a hash lookup, an insert and a
 * delete per append on cache-cold buckets: about a third of a default publish.
 *
 * An entry is dead once its `event` is null (the store's tombstone); dead entries leave the
 * sorted array from the front as they age out, or in one pass once they dominate it.
 */
export class IdIndex<S> {
  #ids: string[] = [];
  #entries: Entry<S>[] = [];
  #head = 0;
  /** Dead entries at or after `#head`. */
  #dead = 0;
  /** Greatest id ever added to the sorted part ('' sorts below every id). */
  #max = '';
  readonly #others = new Map<string, Entry<S>>();

  /** Live entries. */
  get size(): number {
    return this.#entries.length - this.#head - this.#dead + this.#others.size;
  }

  /** Live entries held in the sorted array (the rest are in the Map); for tests. */
  get sortedSize(): number {
    return this.#entries.length - this.#head - this.#dead;
  }

  get(id: string): Entry<S> | undefined {
    if (id <= this.#max) {
      const entry = this.#find(id);
      if (entry !== undefined) return entry;
    }
    return this.#others.size === 0 ? undefined : this.#others.get(id);
  }

  /**
   * Adds `entry` under its event's id; the caller has checked with `get` that the id is absent.
   * @param ascending the id comes from a generator whose ids increase (the bus's createEventId)
   */
  add(id: string, entry: Entry<S>, ascending: boolean): void {
    if (ascending && id > this.#max) {
      this.#max = id;
      this.#ids.push(id);
      this.#entries.push(entry);
    } else {
      this.#others.set(id, entry);
    }
  }

  /**
   * Forgets `entry`, once the caller has set its `event` (given here) to null. The event's id
   * is read only when out-of-order ids exist: an evicted event is old, and reading it a cache miss.
   */
  delete(event: { readonly id: string }, entry: Entry<S>): void {
    if (this.#others.size > 0 && this.#others.get(event.id) === entry) {
      this.#others.delete(event.id);
      return;
    }
    const entries = this.#entries;
    let head = this.#head;
    if (entries[head] !== entry) {
      this.#dead++; // out of order: it stays in place, dead, until the front or a compaction passes it
      this.#compactIfMostlyDead(head);
      return;
    }
    // Usually the oldest goes first: the front moves past it and any dead entries behind it.
    head++;
    while (this.#dead > 0 && head < entries.length && entries[head]!.event === null) {
      head++;
      this.#dead--;
    }
    this.#head = head;
    this.#compactIfMostlyDead(head);
  }

  #compactIfMostlyDead(head: number): void {
    const entries = this.#entries;
    if (
      (head > 1024 && head * 2 > entries.length) ||
      (this.#dead > 1024 && this.#dead * 2 > entries.length - head)
    )
      this.#compact();
  }

  /** Drops dead entries from the sorted part, keeping the order. */
  #compact(): void {
    const ids: string[] = [];
    const entries: Entry<S>[] = [];
    for (let i = this.#head; i < this.#entries.length; i++) {
      const entry = this.#entries[i]!;
      if (entry.event === null) continue;
      ids.push(this.#ids[i]!);
      entries.push(entry);
    }
    this.#ids = ids;
    this.#entries = entries;
    this.#head = 0;
    this.#dead = 0;
  }

  /** Binary search of the sorted part; only a live entry counts. */
  #find(id: string): Entry<S> | undefined {
    const ids = this.#ids;
    let lo = this.#head;
    let hi = ids.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (ids[mid]! < id) lo = mid + 1;
      else hi = mid;
    }
    if (lo === ids.length || ids[lo] !== id) return undefined;
    const entry = this.#entries[lo]!;
    return entry.event === null ? undefined : entry;
  }
}
