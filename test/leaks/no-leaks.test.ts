import { describe, expect, it } from 'vitest';
import { EventBus } from '../../src/index.js';
import { heapGrowthOfSecondRun, settledHeap } from './heap.js';

/**
 * Leak checks: a long loop of create-and-release must end with nothing registered and a heap
 * that did not grow with the loop. Each loop runs twice — the first warms up JIT code and
 * caches — and the heap is compared across the second run only. The bound (2 MB) is far
 * below what one leaked subscription per cycle would cost (100,000 × ≥ 100 bytes = 10 MB).
 */
const CYCLES = 100_000;
const HEAP_SLACK = 2 * 1024 * 1024;

describe('no leaks', () => {
  it('100,000 subscribe/close cycles leave zero subscriptions and a flat heap', async () => {
    const bus = new EventBus({ store: null });
    const cycle = async (): Promise<void> => {
      for (let i = 0; i < CYCLES; i++) {
        const sub = bus.subscribe(i % 2 ? 'task.*' : `task.n${i % 1000}`);
        if (i % 100 === 0) await bus.publish({ type: 'task.n0', data: i });
        if (i % 3 === 0) sub.close();
        else await sub.return();
      }
    };
    const growth = await heapGrowthOfSecondRun(cycle);
    expect(bus.stats().subscriptions).toBe(0);
    expect(growth).toBeLessThan(HEAP_SLACK);
  });

  it('100,000 on/unsubscribe cycles over distinct patterns leave zero subscriptions and a flat heap', async () => {
    const bus = new EventBus({ store: null });
    const cycle = (run: number): void => {
      for (let i = 0; i < CYCLES; i++) bus.on(`job.${run * CYCLES + i}.*`, () => {})();
    };
    const growth = await heapGrowthOfSecondRun(cycle);
    expect(bus.stats().subscriptions).toBe(0);
    expect(growth).toBeLessThan(HEAP_SLACK);
  });

  it('100,000 aborted once() calls leave zero subscriptions and a flat heap', async () => {
    const bus = new EventBus({ store: null });
    const cycle = async (): Promise<void> => {
      for (let i = 0; i < CYCLES; i++) {
        const controller = new AbortController();
        const next = bus.once('job.*', { signal: controller.signal, timeoutMs: 60_000 });
        controller.abort();
        await next.catch(() => {});
      }
    };
    const growth = await heapGrowthOfSecondRun(cycle);
    expect(bus.stats().subscriptions).toBe(0);
    expect(growth).toBeLessThan(HEAP_SLACK);
  });

  it('a never-reading drop-oldest iterator stays bounded while 1,000,000 events are published', async () => {
    const bus = new EventBus({ store: null });
    const bufferSize = 1024;
    const sub = bus.subscribe('tick', { bufferSize, overflow: 'drop-oldest' });
    const publish = async (count: number): Promise<void> => {
      for (let i = 0; i < count; i++)
        await bus.publish({ type: 'tick', data: { i, payload: 'x'.repeat(64) } });
    };
    await publish(10_000); // fills the buffer to its bound
    const before = await settledHeap();
    await publish(1_000_000);
    const after = await settledHeap();
    expect(sub.stats()).toMatchObject({ buffered: bufferSize, dropped: 1_010_000 - bufferSize });
    // Retaining every event would cost > 100 MB; the bound is a small multiple of noise.
    expect(after - before).toBeLessThan(HEAP_SLACK);
  });
});
