/**
 * The last `capacity` ids, for confirming a bloom positive exactly when the store cannot
 * (`store: null`, or a store without `has`). Inserting is one array write; a lookup scans
 * newest first. Lookups happen only on bloom positives (about 1 % of new ids, plus real
 * duplicates, which are usually recent), so this beats a Set, whose delete+add churn on
 * thousands of entries costs more on every publish than the rare scans do.
 */
export class RecentIds {
  readonly #ids: (string | undefined)[];
  #next = 0;

  constructor(capacity: number) {
    this.#ids = new Array(capacity);
  }

  add(id: string): void {
    this.#ids[this.#next] = id;
    this.#next = (this.#next + 1) % this.#ids.length;
  }

  has(id: string): boolean {
    const ids = this.#ids;
    for (let i = this.#next - 1; i >= 0; i--) if (ids[i] === id) return true;
    for (let i = ids.length - 1; i >= this.#next; i--) if (ids[i] === id) return true;
    return false;
  }
}
