import { describe, expect, it } from 'vitest';
import { type BusEvent, InvalidOptionError, MemoryEventStore } from '../../src/index.js';
import { createFakeClock } from '../../src/testing/index.js';
import { settledHeap } from '../leaks/heap.js';

let n = 0;
function event(stream: string, overrides: Partial<BusEvent> = {}): BusEvent {
  n++;
  return { id: `m-${n}`, type: 'op.progress', stream, time: n, data: { n }, ...overrides };
}

describe('MemoryEventStore bounds', () => {
  it('evicts the least recently written stream beyond maxStreams', async () => {
    const store = new MemoryEventStore({ maxStreams: 2 });
    await store.append([event('a'), event('b')]);
    await store.append([event('a')]); // a is now the most recently written
    await store.append([event('c')]); // evicts b
    expect((await store.read({ stream: 'b' })).events).toEqual([]);
    expect((await store.read({ stream: 'a' })).events).toHaveLength(2);
    expect(await store.stats()).toMatchObject({ streams: 2, events: 3, evicted: 1 });
  });

  it('evicts the oldest event overall beyond maxEvents', async () => {
    const store = new MemoryEventStore({ maxEvents: 2 });
    const results = await store.append([event('a'), event('b'), event('a'), event('c')]);
    const ids = (await store.read({})).events.map((e) => e.cursor);
    expect(ids).toEqual(results.slice(2).map((r) => r.cursor));
    // Event 1 (right after cursor 0) is gone; nothing after cursor 1 is.
    expect((await store.read({ after: results[0]!.cursor })).truncated).toBe(true);
    expect((await store.read({ after: results[1]!.cursor })).truncated).toBeFalsy();
  });

  it('never returns events older than retentionMs and removes them on cleanup', async () => {
    const clock = createFakeClock();
    const store = new MemoryEventStore({ retentionMs: 1000, clock: clock.now });
    await store.append([event('a'), event('b')]);
    clock.advance(600);
    await store.append([event('a')]);
    clock.advance(500); // the first two are now 1,100 ms old
    expect((await store.read({})).events).toHaveLength(1);
    expect(await store.cleanup(clock.now())).toBe(2);
    expect(await store.stats()).toMatchObject({ events: 1, streams: 1 });
    expect(await store.has('m-1')).toBe(false);
  });

  it('flags a cursor from another store instance (an earlier epoch) as truncated, and rejects garbage', async () => {
    const before = new MemoryEventStore();
    const [old] = await before.append([event('a')]);
    const after = new MemoryEventStore();
    await after.append([event('a'), event('a')]);
    const page = await after.read({ after: old!.cursor });
    expect(page.truncated).toBe(true);
    expect(page.events).toHaveLength(2);
    await expect(after.read({ after: 'not-a-cursor' })).rejects.toBeInstanceOf(InvalidOptionError);
  });

  it('rejects reads and appends after close', async () => {
    const store = new MemoryEventStore();
    await store.close();
    await expect(store.append([event('a')])).rejects.toMatchObject({ code: 'CLOSED' });
    await expect(store.read({})).rejects.toMatchObject({ code: 'CLOSED' });
  });

  it('rejects impossible options', () => {
    expect(() => new MemoryEventStore({ maxEventsPerStream: 0 })).toThrow(InvalidOptionError);
    expect(() => new MemoryEventStore({ retentionMs: -5 })).toThrow(/retentionMs/);
  });

  it('keeps a million events over 10,000 streams within its bounds', async () => {
    const bounds = { maxEventsPerStream: 50, maxStreams: 5_000, maxEvents: 100_000 };
    const store = new MemoryEventStore(bounds);
    const payload = 'x'.repeat(100);
    let seed = 7;
    const nextStream = (): string => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return `op-${seed % 10_000}`;
    };
    const appendMany = async (count: number): Promise<void> => {
      for (let i = 0; i < count; i += 1000) {
        await store.append(Array.from({ length: 1000 }, () => event(nextStream(), { data: payload })));
      }
    };
    await appendMany(200_000);
    const heapBefore = await settledHeap();
    await appendMany(800_000);
    const heapAfter = await settledHeap();
    const stats = await store.stats();
    expect(stats.events).toBeLessThanOrEqual(bounds.maxEvents);
    expect(stats.streams).toBeLessThanOrEqual(bounds.maxStreams);
    expect(stats.evicted).toBe(1_000_000 - stats.events);
    for (let i = 0; i < 10_000; i += 997) {
      expect((await store.read({ stream: `op-${i}`, limit: 1000 })).events.length).toBeLessThanOrEqual(50);
    }
    // Full at 200,000 already: 800,000 more events must not grow the heap (≈ 300 B each if retained).
    expect(heapAfter - heapBefore).toBeLessThan(24 * 1024 * 1024);
  });
});
