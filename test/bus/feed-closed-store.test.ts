import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ClosedError, EventBus, type StoredEvent } from '../../src/index.js';
import { SharedMemoryStore } from '../support/shared-memory-store.js';

/**
 * A shared store that says CLOSED (it was closed before the bus, or its Redis client was) cannot
 * come back: the live feed reports it once and stops, instead of retrying every 250 ms forever
 * with a timer that kept the process alive.
 */
class ClosedTailStore extends SharedMemoryStore {
  tails = 0;
  /** As the Redis store's tail does once the client it was given is closed. */
  override tail(): AsyncIterable<StoredEvent> {
    this.tails++;
    return {
      [Symbol.asyncIterator]: () => ({
        next: () => Promise.reject(new ClosedError('The Redis client given to the store was closed')),
      }),
    };
  }
}

describe('the live feed on a store that says it is closed', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('reports a tail ending with CLOSED once and does not restart it', async () => {
    const store = new ClosedTailStore();
    const reports: unknown[] = [];
    const bus = new EventBus({ store, onError: (error) => reports.push(error) });
    await bus.ready();
    await vi.advanceTimersByTimeAsync(10_000); // 40 retries' worth
    expect(store.tails).toBe(1);
    expect(reports).toEqual([expect.objectContaining({ code: 'CLOSED' })]);
    await bus.close();
  });

  it('reports a store closed before the bus once, and ready() rejects with it as the cause', async () => {
    const store = new SharedMemoryStore();
    await store.close();
    const reports: unknown[] = [];
    const bus = new EventBus({ store, onError: (error) => reports.push(error) });
    const ready = bus.ready({ timeoutMs: 1000 }).catch((error: unknown) => error);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(reports).toEqual([expect.objectContaining({ code: 'CLOSED' })]);
    expect(await ready).toMatchObject({ code: 'STORE_UNAVAILABLE', cause: { code: 'CLOSED' } });
    await bus.close();
  });
});
