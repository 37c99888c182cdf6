/** Default bound on the streams whose publish counts `bus.stats()` reports. */
export const DEFAULT_TRACKED_STREAMS = 1000;

/**
 * Publish counts per stream for `stats()`, bounded: with more distinct streams than
 * `maxStreams`, the earliest-seen stream is forgotten (its count moves to `evicted`), so a
 * flood of one-off stream names cannot grow memory.
 */
export class StreamCounter {
  /** A mutable count per stream: counting an event costs one lookup, not a get and a set. */
  readonly #counts = new Map<string, { n: number }>();
  readonly #max: number;
  /** Events counted for streams that were forgotten since. */
  evicted = 0;

  constructor(maxStreams = DEFAULT_TRACKED_STREAMS) {
    this.#max = maxStreams;
  }

  count(stream: string): void {
    const current = this.#counts.get(stream);
    if (current !== undefined) {
      current.n++;
      return;
    }
    if (this.#counts.size >= this.#max) {
      const oldest = this.#counts.keys().next().value as string;
      this.evicted += this.#counts.get(oldest)!.n;
      this.#counts.delete(oldest);
    }
    this.#counts.set(stream, { n: 1 });
  }

  /** The `limit` busiest streams, busiest first. */
  top(limit: number): { stream: string; published: number }[] {
    return [...this.#counts]
      .sort((a, b) => b[1].n - a[1].n)
      .slice(0, limit)
      .map(([stream, count]) => ({ stream, published: count.n }));
  }
}
