/** Default bound on the streams whose publish counts `bus.stats()` reports. */
export const DEFAULT_TRACKED_STREAMS = 1000;

/**
 * Publish counts per stream for `stats()`, bounded: with more distinct streams than
 * `maxStreams`, the earliest-seen stream is forgotten (its count moves to `evicted`), so a
 * flood of one-off stream names cannot grow memory.
 */
export class StreamCounter {
  readonly #counts = new Map<string, number>();
  readonly #max: number;
  /** Events counted for streams that were forgotten since. */
  evicted = 0;

  constructor(maxStreams = DEFAULT_TRACKED_STREAMS) {
    this.#max = maxStreams;
  }

  count(stream: string): void {
    const current = this.#counts.get(stream);
    if (current !== undefined) {
      this.#counts.set(stream, current + 1);
      return;
    }
    if (this.#counts.size >= this.#max) {
      const oldest = this.#counts.keys().next().value as string;
      this.evicted += this.#counts.get(oldest)!;
      this.#counts.delete(oldest);
    }
    this.#counts.set(stream, 1);
  }

  /** The `limit` busiest streams, busiest first. */
  top(limit: number): { stream: string; published: number }[] {
    return [...this.#counts]
      .sort((a, b) => b[1] - a[1])
      .slice(0, limit)
      .map(([stream, published]) => ({ stream, published }));
  }
}
