import { describe, expect, it, vi } from 'vitest';
import {
  EventBus,
  type EventStore,
  HistoryTruncated,
  HistoryTruncatedError,
  MemoryEventStore,
  type StoredEvent,
  StoreUnavailableError,
} from '../../src/index.js';

async function take<T>(iterator: AsyncIterator<T>, count: number): Promise<T[]> {
  const out: T[] = [];
  while (out.length < count) {
    const next = await iterator.next();
    if (next.done) break;
    out.push(next.value);
  }
  return out;
}

/** The memory store seen only through the EventStore port (the bus's memory fast path does not apply). */
function portOnly(inner: MemoryEventStore): EventStore {
  return {
    append: (events) => inner.append(events),
    read: (query) => inner.read(query),
    has: (id) => inner.has(id),
    stats: () => inner.stats(),
    close: () => inner.close(),
  };
}

const dataOf = (items: unknown[]) =>
  items.map((e) => (e instanceof HistoryTruncated ? 'TRUNCATED' : (e as StoredEvent).data));

describe('publishing with a store', () => {
  it('returns the cursor and delivers the event with it', async () => {
    const bus = new EventBus();
    const seen: StoredEvent[] = [];
    bus.on('**', (e) => seen.push(e));
    const result = await bus.publish({ type: 'a', data: 1 });
    expect(result.cursor).toBeDefined();
    expect(seen[0]!.cursor).toBe(result.cursor);
  });

  it('does not deliver an id the store already holds, and says duplicate with the original cursor', async () => {
    const bus = new EventBus({ dedup: false }); // the store's own idempotency reports the original cursor
    const handler = vi.fn();
    bus.on('**', handler);
    const first = await bus.publish({ id: 'same', type: 'a', data: 1 });
    const again = await bus.publish({ id: 'same', type: 'a', data: 2 });
    expect(again).toEqual({ id: 'same', status: 'duplicate', cursor: first.cursor, deliveredTo: 0 });
    expect(handler).toHaveBeenCalledTimes(1);
    expect(bus.stats()).toMatchObject({ published: 1, duplicates: 1 });
  });

  it('appends a batch with one store call', async () => {
    const store = portOnly(new MemoryEventStore());
    const append = vi.spyOn(store, 'append');
    const bus = new EventBus({ store });
    const results = await bus.publishBatch([1, 2, 3].map((n) => ({ type: 'a', data: n })));
    expect(append).toHaveBeenCalledTimes(1);
    expect(results.map((r) => r.status)).toEqual(['delivered', 'delivered', 'delivered']);
  });

  it('rejects with StoreUnavailableError and delivers nothing when the store fails', async () => {
    const store = portOnly(new MemoryEventStore());
    store.append = async () => {
      throw new Error('disk on fire');
    };
    const bus = new EventBus({ store });
    const handler = vi.fn();
    bus.on('**', handler);
    const error = await bus.publish({ type: 'a', data: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect((error as Error).cause).toMatchObject({ message: 'disk on fire' });
    expect(handler).not.toHaveBeenCalled();
  });

  it('closes only a store it made: one passed in stays open for another bus (regression #13.7)', async () => {
    const store = new MemoryEventStore();
    const a = new EventBus({ store });
    const b = new EventBus({ store });
    await a.close();
    const result = await b.publish({ type: 'a', data: 1 });
    expect(result.status).toBe('delivered');
    expect((await store.read({})).events).toHaveLength(1);
    await b.close();
    await store.close();
    await expect(store.read({})).rejects.toMatchObject({ code: 'CLOSED' });
  });
});

describe('subscribe with replay', () => {
  it("from 'start' replays the retained history, then goes live", async () => {
    const bus = new EventBus();
    await bus.publishBatch([1, 2, 3].map((n) => ({ type: 'job.done', data: n })));
    await bus.publish({ type: 'other', data: 'x' });
    const sub = bus.subscribe('job.*', { from: 'start' });
    await bus.publish({ type: 'job.done', data: 4 });
    expect(dataOf(await take(sub, 4))).toEqual([1, 2, 3, 4]);
  });

  it('from { after } yields strictly after the cursor, and honours stream and filter', async () => {
    const bus = new EventBus();
    const [first] = await bus.publishBatch([{ type: 'a', stream: 's', data: 1 }]);
    await bus.publishBatch([
      { type: 'a', stream: 's', data: 2 },
      { type: 'a', stream: 't', data: 3 },
      { type: 'a', stream: 's', data: 4 },
      { type: 'a', stream: 's', data: 5 },
    ]);
    const sub = bus.subscribe('a', {
      from: { after: first!.cursor! },
      stream: 's',
      filter: (e) => e.data !== 4,
    });
    await bus.publish({ type: 'a', stream: 's', data: 6 });
    expect(dataOf(await take(sub, 3))).toEqual([2, 5, 6]);
  });

  it('from { since } replays events whose time is at or after it', async () => {
    const bus = new EventBus();
    await bus.publishBatch([10, 20, 30].map((time) => ({ type: 'a', time, data: time })));
    const sub = bus.subscribe('a', { from: { since: 20 } });
    expect(dataOf(await take(sub, 2))).toEqual([20, 30]);
  });

  it("with onTruncated: 'signal', yields a HistoryTruncated item first when the cursor is older than what is retained", async () => {
    const bus = new EventBus({ store: new MemoryEventStore({ maxEventsPerStream: 3 }) });
    const results = await bus.publishBatch([1, 2, 3, 4, 5].map((n) => ({ type: 'a', data: n })));
    const sub = bus.subscribe('a', { from: { after: results[0]!.cursor! }, onTruncated: 'signal' });
    const items = await take(sub, 4);
    expect(dataOf(items)).toEqual(['TRUNCATED', 3, 4, 5]);
    expect((items[0] as HistoryTruncated).after).toBe(results[0]!.cursor);
    expect((items[0] as HistoryTruncated).oldest).toBe(results[2]!.cursor);
  });

  it('by default ends the loop with HistoryTruncatedError naming the resume and the oldest retained cursor', async () => {
    const bus = new EventBus({ store: new MemoryEventStore({ maxEventsPerStream: 2 }), onError: () => {} });
    const results = await bus.publishBatch([1, 2, 3, 4].map((n) => ({ type: 'a', data: n })));
    const sub = bus.subscribe('a', { from: { after: results[0]!.cursor! } });
    const error = await sub.next().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HistoryTruncatedError);
    expect((error as HistoryTruncatedError).after).toBe(results[0]!.cursor);
    expect((error as HistoryTruncatedError).oldest).toBe(results[2]!.cursor);
  });

  it('ends with StoreUnavailableError when the store stays unreadable for about feedTimeoutMs', async () => {
    const store = new MemoryEventStore();
    const errors: unknown[] = [];
    const bus = new EventBus({ store, onError: (e) => errors.push(e), feedTimeoutMs: 500 });
    let reads = 0;
    store.read = async () => {
      reads++;
      throw new Error('gone');
    };
    const sub = bus.subscribe('a', { from: 'start' });
    await expect(sub.next()).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(reads).toBe(3); // the first read and two retries, 250 ms apart
    expect(errors).toHaveLength(2); // reported once when it began failing, then when it gave up
    expect(bus.stats().subscriptions).toBe(0);
  });

  it('a cursor ahead of anything the store issued (a forged Last-Event-ID) is truncation, not a silent skip of live events', async () => {
    const bus = new EventBus({ onError: () => {} });
    const [first] = await bus.publishBatch([{ type: 'a', data: 1 }]);
    const forged = first!.cursor!.replace(/\d{6}$/, '999999');
    expect(forged > first!.cursor!).toBe(true);
    const strict = bus.subscribe('a', { from: { after: forged } });
    await expect(strict.next()).rejects.toMatchObject({ code: 'HISTORY_TRUNCATED', after: forged });
    const told = bus.subscribe('a', { from: { after: forged }, onTruncated: 'signal' });
    expect((await told.next()).value).toBeInstanceOf(HistoryTruncated);
    await bus.publish({ type: 'a', data: 2 });
    expect(((await told.next()).value as { data: unknown }).data).toBe(2);
  });

  it('rides out a store that fails a read or two: the replay goes on with nothing lost', async () => {
    const store = new MemoryEventStore();
    const bus = new EventBus({ store, onError: () => {} });
    await bus.publishBatch([1, 2, 3].map((n) => ({ type: 'a', data: n })));
    const read = store.read.bind(store);
    let failures = 2;
    store.read = async (query) => {
      if (failures-- > 0) throw new Error('ECONNRESET');
      return read(query);
    };
    const sub = bus.subscribe('a', { from: 'start' });
    const got = [];
    for (let i = 0; i < 3; i++) got.push((await sub.next()).value?.data);
    expect(got).toEqual([1, 2, 3]);
  });

  it('replays history at the reader pace, never dropping it, even with a tiny buffer', async () => {
    const bus = new EventBus();
    await bus.publishBatch(Array.from({ length: 50 }, (_, n) => ({ type: 'a', data: n })));
    const sub = bus.subscribe('a', { from: 'start', bufferSize: 2 });
    const items = await take(sub, 50);
    expect(dataOf(items)).toEqual(Array.from({ length: 50 }, (_, n) => n));
    expect(sub.stats().dropped).toBe(0);
  });

  it('rejects replay on a store-less bus and a malformed from', () => {
    expect(() => new EventBus({ store: null }).subscribe('a', { from: 'start' })).toThrow(/no store/);
    expect(() => new EventBus().subscribe('a', { from: { after: '' } })).toThrow(/from/);
    expect(() => new EventBus().subscribe('a', { from: 'yesterday' as never })).toThrow(/from/);
  });

  it('works with a store that implements only the required methods', async () => {
    const inner = new MemoryEventStore();
    const minimal: EventStore = {
      append: (events) => inner.append(events),
      read: (query) => inner.read(query),
      stats: () => inner.stats(),
      close: () => inner.close(),
    };
    const bus = new EventBus({ store: minimal });
    await bus.publish({ type: 'a', data: 1 });
    expect(dataOf(await take(bus.subscribe('a', { from: 'start' }), 1))).toEqual([1]);
  });
});

describe('the switch from replay to live', () => {
  it('never lets the overflow policy drop history: held live events wait for room like replayed ones', async () => {
    const bus = new EventBus();
    await bus.publishBatch([1, 2].map((n) => ({ type: 'a', data: n })));
    const sub = bus.subscribe('a', { from: 'start', bufferSize: 2, overflow: 'drop-oldest' });
    for (let n = 3; n <= 4; n++) await bus.publish({ type: 'a', data: n }); // held while the replay runs
    const seen: unknown[] = [];
    for await (const item of sub) {
      seen.push((item as StoredEvent).data);
      if (seen.length === 4) break;
    }
    expect(seen).toEqual([1, 2, 3, 4]);
    expect(sub.stats().dropped).toBe(0);
  });
});
