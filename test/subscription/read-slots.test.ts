import { describe, expect, it } from 'vitest';
import { EventBus, MemoryEventStore, type ReadQuery } from '../../src/index.js';
import { ReadSlots } from '../../src/subscription/read-slots.js';

describe('ReadSlots', () => {
  it('runs at most its limit at once, first come first served', async () => {
    const slots = new ReadSlots(2);
    const started: number[] = [];
    const release: (() => void)[] = [];
    const runs = [0, 1, 2, 3].map((n) =>
      slots.run(async () => {
        started.push(n);
        await new Promise<void>((resolve) => release.push(resolve));
        return n;
      }),
    );
    await Promise.resolve();
    expect(started).toEqual([0, 1]);
    expect([slots.inUse, slots.waiting]).toEqual([2, 2]);
    release.shift()!();
    await new Promise((resolve) => setImmediate(resolve));
    expect(started).toEqual([0, 1, 2]);
    while (release.length > 0 || started.length < 4) {
      release.shift()?.();
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(await Promise.all(runs)).toEqual([0, 1, 2, 3]);
    expect([slots.inUse, slots.waiting]).toEqual([0, 0]);
  });

  it('frees the slot when a read fails', async () => {
    const slots = new ReadSlots(1);
    await expect(slots.run(() => Promise.reject(new Error('down')))).rejects.toThrow('down');
    expect(await slots.run(async () => 'next')).toBe('next');
  });
});

describe('maxConcurrentReads', () => {
  it('bounds the store reads of a crowd of resuming subscribers, and each still gets everything', async () => {
    const store = new MemoryEventStore({ maxEventsPerStream: 10_000 });
    let running = 0;
    let most = 0;
    const read = store.read.bind(store);
    store.read = async (query: ReadQuery) => {
      running++;
      most = Math.max(most, running);
      await new Promise((resolve) => setImmediate(resolve));
      try {
        return await read(query);
      } finally {
        running--;
      }
    };
    const bus = new EventBus({ store, maxConcurrentReads: 3 });
    await bus.publishBatch(Array.from({ length: 50 }, (_, n) => ({ type: 'e', data: n })));
    const subs = Array.from({ length: 20 }, () => bus.subscribe('e', { from: 'start', bufferSize: 8 }));
    const got = await Promise.all(
      subs.map(async (sub) => {
        const data: unknown[] = [];
        for await (const event of sub) {
          data.push(event.data);
          if (data.length === 50) break;
        }
        return data;
      }),
    );
    for (const data of got) expect(data).toEqual(Array.from({ length: 50 }, (_, n) => n));
    expect(most).toBeLessThanOrEqual(3);
    expect(most).toBeGreaterThan(1);
    expect(() => new EventBus({ maxConcurrentReads: 0 })).toThrow(/maxConcurrentReads/);
  });
});
