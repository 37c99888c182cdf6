/**
 * FIFO with a hard capacity. Storage starts small and doubles up to the capacity, so
 * thousands of idle subscriptions with `bufferSize: 1024` do not each hold 1,024 slots.
 */
export class RingBuffer<T> {
  readonly capacity: number;
  #items: (T | undefined)[];
  #head = 0;
  #length = 0;

  constructor(capacity: number) {
    this.capacity = capacity;
    this.#items = new Array(Math.min(capacity, 16));
  }

  get length(): number {
    return this.#length;
  }

  /** Slots allocated: at most the capacity, whatever was pushed (the memory bound, tested). */
  get slots(): number {
    return this.#items.length;
  }

  isFull(): boolean {
    return this.#length >= this.capacity;
  }

  /** Appends; the caller checks `isFull()` first. */
  push(item: T): void {
    if (this.#length === this.#items.length) this.#grow();
    this.#items[(this.#head + this.#length) % this.#items.length] = item;
    this.#length++;
  }

  shift(): T | undefined {
    if (this.#length === 0) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head] = undefined; // let the event be collected
    this.#head = (this.#head + 1) % this.#items.length;
    this.#length--;
    return item;
  }

  clear(): void {
    this.#items = new Array(Math.min(this.capacity, 16));
    this.#head = 0;
    this.#length = 0;
  }

  #grow(): void {
    const size = Math.min(this.capacity, this.#items.length * 2);
    const next = new Array<T | undefined>(size);
    for (let i = 0; i < this.#length; i++) next[i] = this.#items[(this.#head + i) % this.#items.length];
    this.#items = next;
    this.#head = 0;
  }
}
