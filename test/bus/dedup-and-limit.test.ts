import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  Deduplicator,
  EventBus,
  type EventStore,
  MemoryEventStore,
  RateLimitedError,
  RateLimiter,
  type StoredEvent,
} from '../../src/index.js';
import { createFakeClock } from '../../src/testing/index.js';

afterEach(() => {
  vi.useRealTimers();
});

function delivered(bus: EventBus): StoredEvent[] {
  const seen: StoredEvent[] = [];
  bus.on('**', (e) => seen.push(e));
  return seen;
}

/** A store with only the required methods: no `has`, so the bus confirms from recent ids. */
function storeWithoutHas(inner = new MemoryEventStore()): EventStore {
  return {
    append: (e) => inner.append(e),
    read: (q) => inner.read(q),
    stats: () => inner.stats(),
    close: () => inner.close(),
  };
}

describe.each([
  ['no store', () => null],
  ['the memory store', () => new MemoryEventStore()],
  ['a store without has()', storeWithoutHas],
])('deduplication with %s', (_, makeStore) => {
  it('is on by default: a repeated id is not delivered and reports duplicate', async () => {
    const store = makeStore();
    const bus = new EventBus({ store });
    const seen = delivered(bus);
    const first = await bus.publish({ id: 'evt-1', type: 'a', data: 1 });
    const again = await bus.publish({ id: 'evt-1', type: 'a', data: 1 });
    expect(again).toMatchObject({ id: 'evt-1', status: 'duplicate', deliveredTo: 0 });
    // One answer per question: with a store, a duplicate names the original's cursor.
    if (store !== null) expect(again.cursor).toEqual(first.cursor ?? 'a cursor');
    expect(seen).toHaveLength(1);
    expect(bus.stats().duplicates).toBe(1);
  });

  it('catches a duplicate inside one publishBatch', async () => {
    const bus = new EventBus({ store: makeStore() });
    const seen = delivered(bus);
    const results = await bus.publishBatch([
      { id: 'x', type: 'a', data: 1 },
      { id: 'y', type: 'a', data: 2 },
      { id: 'x', type: 'a', data: 3 },
    ]);
    expect(results.map((r) => r.status)).toEqual(['delivered', 'delivered', 'duplicate']);
    expect(seen.map((e) => e.data)).toEqual([1, 2]);
  });

  it('in a batch mixing generated and given ids, refuses exactly the repeated ones', async () => {
    const bus = new EventBus({ store: makeStore() });
    const seen = delivered(bus);
    const [first] = await bus.publishBatch([{ type: 'a', data: 0 }]);
    const results = await bus.publishBatch([
      { type: 'a', data: 1 },
      { id: 'x', type: 'a', data: 2 },
      { type: 'a', data: 3 },
      { id: first!.id, type: 'a', data: 4 }, // a generated id, given back
      { id: 'x', type: 'a', data: 5 },
      { type: 'a', data: 6 },
    ]);
    expect(results.map((r) => r.status)).toEqual([
      'delivered',
      'delivered',
      'delivered',
      'duplicate',
      'duplicate',
      'delivered',
    ]);
    expect(new Set(results.map((r) => r.id)).size).toBe(5);
    expect(seen.map((e) => e.data)).toEqual([0, 1, 2, 3, 6]);
  });

  it('never drops a new event on a bloom false positive', async () => {
    // A deliberately tiny, leaky filter: half of all new ids look "seen" to it.
    const dedup = new Deduplicator({ expectedEvents: 8, falsePositiveRate: 0.5 });
    const bus = new EventBus({ store: makeStore(), dedup });
    const seen = delivered(bus);
    const results = await bus.publishBatch(
      Array.from({ length: 500 }, (_, i) => ({ id: `new-${i}`, type: 'a', data: i })),
    );
    for (let i = 0; i < 500; i++) await bus.publish({ id: `single-${i}`, type: 'a', data: i });
    expect(dedup.stats().duplicates).toBeGreaterThan(50); // the filter did raise false alarms…
    expect(results.every((r) => r.status === 'delivered')).toBe(true); // …and none was dropped
    expect(seen).toHaveLength(1000);
    expect(bus.stats().duplicates).toBe(0);
  });
});

describe('ids the bus generates', () => {
  /** A memory store counting `has` calls: each one is a round trip on a remote store. */
  function countingStore() {
    const inner = new MemoryEventStore();
    const counts = { has: 0 };
    const store: EventStore = {
      ...storeWithoutHas(inner),
      has: (id) => {
        counts.has++;
        return inner.has(id);
      },
    };
    return { store, counts };
  }

  it.each([
    ['without a limiter', undefined],
    ['with a limiter', { rate: 1_000_000, intervalMs: 1000 }],
  ])(
    'are not checked against the filter (%s), only remembered: a re-send of one is caught',
    async (_, rateLimit) => {
      const { store, counts } = countingStore();
      // The default filter: checked, about 1 % of 4,000 fresh ids would look seen, each costing a `has`.
      const dedup = new Deduplicator();
      const bus = new EventBus({ store, dedup, rateLimit });
      const batch = await bus.publishBatch(Array.from({ length: 2000 }, (_, i) => ({ type: 'a', data: i })));
      const singles = [];
      for (let i = 0; i < 2000; i++) singles.push(await bus.publish({ type: 'a', data: i }));
      expect([...batch, ...singles].every((r) => r.status === 'delivered')).toBe(true);
      expect(counts.has).toBe(0);
      expect(dedup.stats().checked).toBe(4000); // every generated id was marked seen
      // The event re-sent with the id it was given: the filter flags it, the store confirms it.
      const again = await bus.publish({ id: singles[1999]!.id, type: 'a', data: 1999 });
      expect(again.status).toBe('duplicate');
      expect(counts.has).toBe(1);
    },
  );
});

describe('deduplication options', () => {
  it('can be turned off', async () => {
    const bus = new EventBus({ store: null, dedup: false });
    const seen = delivered(bus);
    await bus.publish({ id: 'same', type: 'a', data: 1 });
    await bus.publish({ id: 'same', type: 'a', data: 1 });
    expect(seen).toHaveLength(2);
    expect(bus.stats().dedup).toBeNull();
  });

  it('forgets ids after the window on the bus clock (no store to remember them)', async () => {
    const clock = createFakeClock();
    const bus = new EventBus({ store: null, clock: clock.now, dedup: { windowMs: 1000 } });
    await bus.publish({ id: 'retry', type: 'a', data: 1 });
    clock.advance(500);
    expect((await bus.publish({ id: 'retry', type: 'a', data: 1 })).status).toBe('duplicate');
    clock.advance(1300);
    expect((await bus.publish({ id: 'retry', type: 'a', data: 1 })).status).toBe('delivered');
  });
  it("runs a Deduplicator instance on its own clock, not the bus's", async () => {
    const busClock = createFakeClock();
    const dedupClock = createFakeClock();
    const dedup = new Deduplicator({ windowMs: 1000, clock: dedupClock.now });
    const bus = new EventBus({ store: null, clock: busClock.now, dedup });
    await bus.publish({ id: 'retry', type: 'a', data: 1 });
    busClock.advance(10_000); // the bus's time does not reach the deduplicator
    expect((await bus.publish({ id: 'retry', type: 'a', data: 1 })).status).toBe('duplicate');
    dedupClock.advance(1300);
    expect((await bus.publish({ id: 'retry', type: 'a', data: 1 })).status).toBe('delivered');
  });

  it('runs dedup options with their own clock on that clock', async () => {
    const busClock = createFakeClock();
    const dedupClock = createFakeClock();
    const bus = new EventBus({
      store: null,
      clock: busClock.now,
      dedup: { windowMs: 1000, clock: dedupClock.now },
    });
    await bus.publishBatch([{ id: 'retry', type: 'a', data: 1 }]);
    busClock.advance(10_000);
    expect((await bus.publishBatch([{ id: 'retry', type: 'a', data: 1 }]))[0]!.status).toBe('duplicate');
    dedupClock.advance(1300);
    expect((await bus.publishBatch([{ id: 'retry', type: 'a', data: 1 }]))[0]!.status).toBe('delivered');
  });
});

describe('rate limiting', () => {
  it("drops events over the per-stream budget with status 'rate_limited', other streams unaffected", async () => {
    const clock = createFakeClock();
    const bus = new EventBus({ clock: clock.now, rateLimit: { rate: 1000, intervalMs: 1000 } });
    const seen = delivered(bus);
    const results = await bus.publishBatch(
      Array.from({ length: 1001 }, (_, i) => ({ type: 'op.tick', stream: 'op-1', data: i })),
    );
    expect(results.filter((r) => r.status === 'rate_limited')).toHaveLength(1);
    expect(results[1000]).toMatchObject({ status: 'rate_limited', deliveredTo: 0 });
    expect((await bus.publish({ type: 'op.tick', stream: 'op-2', data: 0 })).status).toBe('delivered');
    clock.advance(1);
    expect((await bus.publish({ type: 'op.tick', stream: 'op-1', data: 0 })).status).toBe('delivered');
    expect(seen).toHaveLength(1002);
    const stats = bus.stats();
    expect(stats.rateLimited).toBe(1);
    expect(stats.rateLimit?.busiest[0]).toMatchObject({ key: 'op-1', limited: 1 });
  });

  it("counts every refusal in stats().rateLimited, whatever onLimit: 'drop', 'throw' and 'delay' past maxWaiting", async () => {
    for (const onLimit of ['drop', 'throw', 'delay'] as const) {
      const clock = createFakeClock();
      const bus = new EventBus({
        store: null,
        clock: clock.now,
        rateLimit: { rate: 1, intervalMs: 1000, burst: 1, onLimit, maxWaiting: 1 },
      });
      await bus.publish({ type: 't', data: 0 });
      // 'delay': this one waits (the one waiter allowed); the others: refused now.
      const waiting = bus.publish({ type: 't', data: 1 }).catch((error: unknown) => error);
      const refused = await bus.publish({ type: 't', data: 2 }).catch((error: unknown) => error);
      expect(refused).toMatchObject(
        onLimit === 'drop' ? { status: 'rate_limited' } : { code: 'RATE_LIMITED' },
      );
      expect(bus.stats().rateLimited, onLimit).toBe(onLimit === 'delay' ? 1 : 2);
      clock.advance(1000);
      await bus.close();
      await waiting;
    }
  });

  it('does not mark a refused event as seen, so its retry is not a duplicate', async () => {
    const clock = createFakeClock();
    const bus = new EventBus({ store: null, clock: clock.now, rateLimit: { rate: 1, burst: 1 } });
    await bus.publish({ type: 'a', data: 0 });
    expect((await bus.publish({ id: 'later', type: 'a', data: 1 })).status).toBe('rate_limited');
    clock.advance(1000);
    expect((await bus.publish({ id: 'later', type: 'a', data: 1 })).status).toBe('delivered');
  });

  it("throws RateLimitedError with onLimit: 'throw'", async () => {
    const bus = new EventBus({ rateLimit: { rate: 1, burst: 1, onLimit: 'throw' } });
    await bus.publish({ type: 'a', data: 0 });
    await expect(bus.publish({ type: 'a', data: 1 })).rejects.toBeInstanceOf(RateLimitedError);
  });

  it("makes publish wait with onLimit: 'delay'", async () => {
    vi.useFakeTimers();
    const bus = new EventBus({ rateLimit: { rate: 10, intervalMs: 1000, burst: 1, onLimit: 'delay' } });
    const seen = delivered(bus);
    await bus.publish({ type: 'a', data: 0 });
    const waiting = bus.publish({ type: 'a', data: 1 });
    await vi.advanceTimersByTimeAsync(50);
    expect(seen).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(50);
    await expect(waiting).resolves.toMatchObject({ status: 'delivered' });
    expect(seen).toHaveLength(2);
  });

  it("runs a RateLimiter instance on its own clock, options without a clock on the bus's", async () => {
    const busClock = createFakeClock();
    const limiterClock = createFakeClock();
    const own = new EventBus({
      store: null,
      clock: busClock.now,
      rateLimit: new RateLimiter({ rate: 1, burst: 1, clock: limiterClock.now }),
    });
    const onBus = new EventBus({ store: null, clock: busClock.now, rateLimit: { rate: 1, burst: 1 } });
    for (const bus of [own, onBus])
      expect((await bus.publish({ type: 'a', data: 0 })).status).toBe('delivered');
    busClock.advance(1000); // refills the bus-clock limiter only
    expect((await own.publish({ type: 'a', data: 1 })).status).toBe('rate_limited');
    expect((await onBus.publish({ type: 'a', data: 1 })).status).toBe('delivered');
    limiterClock.advance(1000);
    expect((await own.publish({ type: 'a', data: 2 })).status).toBe('delivered');
  });

  it('with a limiter, marks an admitted id seen (one hash for the check and the mark)', async () => {
    const clock = createFakeClock();
    const bus = new EventBus({ clock: clock.now, rateLimit: { rate: 1e6 } });
    const ids = Array.from({ length: 500 }, (_, i) => `id-${i}`);
    for (const id of ids) expect((await bus.publish({ id, type: 'a', data: 0 })).status).toBe('delivered');
    const again = await bus.publishBatch(ids.map((id) => ({ id, type: 'a', data: 1 })));
    expect(again.every((r) => r.status === 'duplicate')).toBe(true);
    expect(bus.stats().dedup?.duplicates).toBe(500); // every one caught by the filter, confirmed by the store
  });

  it('keys by a custom function, and accepts a shared RateLimiter instance', async () => {
    const limiter = new RateLimiter({ rate: 1, burst: 1 });
    const bus = new EventBus({ rateLimit: limiter, rateLimitKey: (e) => String(e.meta?.tenant) });
    const publish = (tenant: string) => bus.publish({ type: 'a', data: 0, meta: { tenant } });
    expect((await publish('t1')).status).toBe('delivered');
    expect((await publish('t1')).status).toBe('rate_limited');
    expect((await publish('t2')).status).toBe('delivered');
  });
});
