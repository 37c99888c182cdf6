/**
 * The last `capacity` ids, for confirming a bloom positive exactly when the store cannot
 * (`store: null`, or a store without `has`). Inserting is one array write. Lookups happen
 * only on bloom positives (about 1 % of new ids, plus real duplicates), so this beats a Set,
 * whose delete+add churn on thousands of entries costs more on every publish than the rare
 * lookups do. While the ids kept arrived in ascending order (the bus's own UUIDv7s) a lookup
 * is a binary search; after an out-of-order id, a scan (newest first) until it has left.
 */
export class RecentIds {
  readonly #ids: (string | undefined)[];
  #next = 0;
  /** Ids added so far. */
  #added = 0;
  #last: string | undefined;
  /** The window is sorted once `#added` reaches this: the last descent has left it. */
  #sortedFrom = 0;

  constructor(capacity: number) {
    this.#ids = new Array(capacity);
  }

  add(id: string): void {
    if (this.#last !== undefined && !(id > this.#last)) this.#sortedFrom = this.#added + this.#ids.length;
    this.#last = id;
    this.#ids[this.#next] = id;
    this.#next = (this.#next + 1) % this.#ids.length;
    this.#added++;
  }

  has(id: string): boolean {
    return this.#added >= this.#sortedFrom ? this.#search(id) : this.#scan(id);
  }

  /** Binary search of the window in insertion order, which is ascending order here. */
  #search(id: string): boolean {
    const ids = this.#ids;
    const capacity = ids.length;
    const count = Math.min(this.#added, capacity);
    const start = this.#added > capacity ? this.#next : 0;
    let lo = 0;
    let hi = count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (ids[(start + mid) % capacity]! < id) lo = mid + 1;
      else hi = mid;
    }
    return lo < count && ids[(start + lo) % capacity] === id;
  }

  #scan(id: string): boolean {
    const ids = this.#ids;
    for (let i = this.#next - 1; i >= 0; i--) if (ids[i] === id) return true;
    for (let i = ids.length - 1; i >= this.#next; i--) if (ids[i] === id) return true;
    return false;
  }
}
