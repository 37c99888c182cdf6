import { InvalidOptionError } from '../errors.js';
import { describe } from '../event.js';

/** Default number of counters (streams tracked at once) behind `bus.stats().streams`. */
export const DEFAULT_TRACKED_STREAMS = 1000;

/** One counter: `published` over-estimates the stream's true count by at most `error`. */
interface Counter {
  stream: string;
  published: number;
  /** What the counter held when `stream` took it over (0 if it never replaced anyone). */
  error: number;
  /** Position in the min-heap, once the sketch is full. */
  index: number;
}

/** A tracked stream's estimate: its true count lies in `[published - error, published]`. */
export interface StreamEstimate {
  stream: string;
  published: number;
  error: number;
}

/**
 * Publish counts of the busiest streams for `stats()`, in bounded memory: the Space-Saving
 * heavy-hitters sketch (Metwally, Agrawal, El Abbadi, "Efficient Computation of Frequent and
 * Top-k Elements in Data Streams", 2005) with `maxStreams` counters.
 *
 * A stream already tracked has its counter incremented. A new stream, once all counters are
 * taken, replaces the stream with the smallest count and inherits that count plus one,
 * remembering the inherited part as its `error`. So a flood of one-off stream names only
 * ever churns the smallest counters and never pushes a busy stream out.
 *
 * Guarantees, after N counted events with k = `maxStreams` counters:
 * - every stream with more than N/k of the events is tracked;
 * - a tracked stream's count never under-estimates and over-estimates by at most its
 *   `error` (true count in `[published - error, published]`), and `error` ≤ N/k;
 * - the counts add up to N, so fewer than n streams can count more than N/n: any stream
 *   with more than N/n of the events is in `top(n)` (for n ≤ k).
 * With at most k distinct streams every count is exact (all errors are 0).
 *
 * `count` costs one Map lookup while fewer than k streams have been seen, then O(log k)
 * (a min-heap over the counters, built when the last counter is taken).
 */
export class StreamCounter {
  readonly #byStream = new Map<string, Counter>();
  /** The counters as a min-heap on `published`; empty until all `maxStreams` are taken. */
  readonly #heap: Counter[] = [];
  readonly #max: number;

  constructor(maxStreams = DEFAULT_TRACKED_STREAMS) {
    if (!Number.isInteger(maxStreams) || maxStreams < 1) {
      throw new InvalidOptionError(`Expected maxStreams to be an integer ≥ 1, got ${describe(maxStreams)}`);
    }
    this.#max = maxStreams;
  }

  count(stream: string): void {
    const counter = this.#byStream.get(stream);
    if (counter !== undefined) {
      counter.published++;
      if (this.#heap.length > 0) this.#siftDown(counter.index);
      return;
    }
    if (this.#byStream.size < this.#max) {
      this.#byStream.set(stream, { stream, published: 1, error: 0, index: -1 });
      if (this.#byStream.size === this.#max) this.#buildHeap();
      return;
    }
    // Space-Saving: the new stream takes over the smallest counter.
    const min = this.#heap[0]!;
    this.#byStream.delete(min.stream);
    min.stream = stream;
    min.error = min.published;
    min.published++;
    this.#byStream.set(stream, min);
    this.#siftDown(0);
  }

  /** The `limit` busiest streams, busiest first (exact while at most `maxStreams` streams were seen). */
  top(limit: number): { stream: string; published: number }[] {
    return this.estimates(limit).map(({ stream, published }) => ({ stream, published }));
  }

  /** Like `top`, with each count's error bound. */
  estimates(limit: number = this.#max): StreamEstimate[] {
    return [...this.#byStream.values()]
      .sort((a, b) => b.published - a.published || a.error - b.error)
      .slice(0, limit)
      .map(({ stream, published, error }) => ({ stream, published, error }));
  }

  #buildHeap(): void {
    for (const counter of this.#byStream.values()) {
      counter.index = this.#heap.length;
      this.#heap.push(counter);
    }
    for (let i = (this.#heap.length >> 1) - 1; i >= 0; i--) this.#siftDown(i);
  }

  /** Restores the heap after the counter at `i` grew (counts only ever grow). */
  #siftDown(i: number): void {
    const heap = this.#heap;
    const counter = heap[i]!;
    const n = heap.length;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      const child = right < n && heap[right]!.published < heap[left]!.published ? right : left;
      const smaller = heap[child]!;
      if (smaller.published >= counter.published) break;
      heap[i] = smaller;
      smaller.index = i;
      i = child;
    }
    heap[i] = counter;
    counter.index = i;
  }
}
