import {
  type BusEvent,
  type EventStore,
  HistoryTruncatedError,
  MemoryEventStore,
  type ReadQuery,
  type StoredEvent,
} from '../../src/index.js';

/**
 * A MemoryEventStore with a `tail`, so several buses in one process can share it the way
 * processes share Redis. It exercises the bus's shared-store path (LiveFeed) without a
 * server; the Redis store's own tests cover the real thing.
 */
export class SharedMemoryStore implements EventStore {
  readonly inner: MemoryEventStore;
  readonly #appended = new EventTarget();
  /** Makes the next tail throw once, to test recovery. */
  failNextTail = false;
  /** Makes running tails end with HistoryTruncatedError, as Redis's does when it came back empty. */
  losingHistory = false;
  /** While true, tails hold back what they read (a feed that has fallen behind). */
  stalled = false;
  /** Holds back each append's reply (the events are stored at once): the feed can come first. */
  appendReplyDelayMs = 0;
  #closed = false;

  constructor(options: { maxEventsPerStream?: number } = {}) {
    this.inner = new MemoryEventStore({
      maxEventsPerStream: options.maxEventsPerStream ?? 100_000,
      maxEvents: 1_000_000,
    });
  }
  /** Appends so far: a tail that saw one while it was yielding reads again instead of waiting. */
  #appends = 0;

  async append(events: readonly BusEvent[]) {
    const results = await this.inner.append(events);
    this.#appends++;
    this.#appended.dispatchEvent(new Event('append'));
    if (this.appendReplyDelayMs > 0)
      await new Promise((resolve) => setTimeout(resolve, this.appendReplyDelayMs));
    return results;
  }

  read(query: ReadQuery) {
    return this.inner.read(query);
  }

  has(id: string) {
    return this.inner.has(id);
  }

  async *tail(after: string, signal: AbortSignal): AsyncIterable<StoredEvent> {
    if (this.failNextTail) {
      this.failNextTail = false;
      throw new Error('tail connection lost');
    }
    let cursor = after === 'start' || after === 'now' ? undefined : after;
    while (!signal.aborted) {
      if (this.losingHistory) {
        this.losingHistory = false;
        throw new HistoryTruncatedError('the store came back empty');
      }
      const appendsBefore = this.#appends;
      const page = await this.inner.read({ after: cursor, limit: 1000 });
      // As a real shared store's tail: retention that passed the position is reported, not skipped.
      if (page.truncated) throw new HistoryTruncatedError(`events after ${cursor} were removed by retention`);
      for (const event of page.events) {
        while (this.stalled && !signal.aborted) await new Promise((resolve) => setTimeout(resolve, 5));
        cursor = event.cursor;
        yield event;
      }
      const quiet = page.next === undefined && this.#appends === appendsBefore;
      if (quiet && !signal.aborted) await this.#nextAppend(signal);
    }
  }

  stats() {
    return this.inner.stats();
  }

  async close() {
    if (this.#closed) return;
    this.#closed = true;
    await this.inner.close();
  }

  #nextAppend(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.#appended.removeEventListener('append', done);
        signal.removeEventListener('abort', done);
        resolve();
      };
      this.#appended.addEventListener('append', done);
      signal.addEventListener('abort', done);
    });
  }
}
