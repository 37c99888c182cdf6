// One named regression test per defect of issue #13 (reproduced at 7dbaa65 by the expert review).
// Defect 3 (Redis groups and types with `"` or `\`) is tested against the real Redis in
// test/redis/groups; the rest need no server.
import { describe, expect, it } from 'vitest';
import {
  type BusEvent,
  EventBus,
  type EventStore,
  MemoryEventStore,
  type ReadQuery,
  type StoredEvent,
  StoreUnavailableError,
} from '../../src/index.js';
import { SharedMemoryStore } from '../support/shared-memory-store.js';

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A view of a shared store whose live feed can be held back, as one bus behind a slow network. */
function laggingView(store: SharedMemoryStore): EventStore & { lagging: boolean } {
  const view = {
    lagging: false,
    append: (events: readonly BusEvent[]) => store.append(events),
    read: (query: ReadQuery) => store.read(query),
    has: (id: string) => store.has(id),
    stats: () => store.stats(),
    close: async () => {},
    async *tail(after: string, signal: AbortSignal): AsyncIterable<StoredEvent> {
      for await (const event of store.tail(after, signal)) {
        while (view.lagging && !signal.aborted) await new Promise((resolve) => setTimeout(resolve, 2));
        yield event;
      }
    },
  };
  return view;
}

/** The memory store without `has`, whose next `append` can be made to fail (before or after applying). */
class FlakyStore implements EventStore {
  readonly inner = new MemoryEventStore();
  failNext: 'before' | 'after' | undefined;
  async append(events: readonly BusEvent[]) {
    const failure = this.failNext;
    this.failNext = undefined;
    if (failure === 'before') throw new Error('connection reset');
    const results = await this.inner.append(events);
    if (failure === 'after') throw new Error('timed out waiting for the reply');
    return results;
  }
  read(query: ReadQuery) {
    return this.inner.read(query);
  }
  stats() {
    return this.inner.stats();
  }
  close() {
    return this.inner.close();
  }
}

async function take<E>(iterator: AsyncIterator<E>, n: number, pauseEvery?: number): Promise<E[]> {
  const out: E[] = [];
  while (out.length < n) {
    const next = await iterator.next();
    if (next.done) break;
    out.push(next.value);
    if (pauseEvery !== undefined && out.length % pauseEvery === 0)
      await new Promise((resolve) => setTimeout(resolve, 1));
  }
  return out;
}

describe('issue #13 regressions', () => {
  it('1. a resume while the live feed lags the store yields only what follows the cursor', async () => {
    const shared = new SharedMemoryStore();
    const a = new EventBus({ store: shared, onError: () => {} });
    const view = laggingView(shared);
    const b = new EventBus({ store: view, onError: () => {} });
    await Promise.all([a.ready(), b.ready()]);
    view.lagging = true;
    const published = [];
    for (const name of ['fill', 'e1', 'e2', 'e3'])
      published.push(await a.publish({ type: 'msg', data: name }));
    const sub = b.subscribe('msg', { from: { after: published[3]!.cursor! } });
    await tick();
    view.lagging = false;
    await a.publish({ type: 'msg', data: 'e4' });
    const [first] = await take(sub, 1);
    expect(first!.data).toBe('e4');
    await sub.return();
    await Promise.all([a.close(), b.close()]);
  });

  it('2. a publish whose append failed can be retried with the same id (store without has)', async () => {
    const store = new FlakyStore();
    const bus = new EventBus({ store, onError: () => {} });
    store.failNext = 'before';
    await expect(bus.publish({ id: 'x', type: 'a', data: 1 })).rejects.toBeInstanceOf(StoreUnavailableError);
    const retry = await bus.publish({ id: 'x', type: 'a', data: 1 });
    expect(retry.status).toBe('delivered');
    expect((await store.read({})).events.map((e) => e.id)).toEqual(['x']);
  });

  it('2. without a store, a batch refused by the rate limit leaves no id behind', async () => {
    let now = 0;
    const bus = new EventBus({
      store: null,
      clock: () => now,
      rateLimit: { rate: 1000, burst: 1, onLimit: 'throw' },
    });
    const batch = [
      { id: 'a', type: 't', data: 1 },
      { id: 'b', type: 't', data: 2 },
    ];
    await expect(bus.publishBatch(batch)).rejects.toMatchObject({ code: 'RATE_LIMITED' });
    now += 1; // one token back
    expect((await bus.publish(batch[0]!)).status).toBe('delivered');
    expect(bus.stats()).toMatchObject({ published: 1, duplicates: 0, rateLimited: 1 });
  });

  it('4. a slow async handler never queues more than its bound, and with a store misses nothing', async () => {
    const bus = new EventBus({ store: new MemoryEventStore({ maxEventsPerStream: 10_000 }) });
    const seen: number[] = [];
    bus.on(
      'job',
      async (event) => {
        await tick();
        seen.push(event.data as number);
      },
      { maxPending: 50 },
    );
    let mostPending = 0;
    for (let n = 0; n < 2000; n++) {
      await bus.publish({ type: 'job', data: n });
      mostPending = Math.max(mostPending, bus.stats().pendingHandlers);
    }
    await bus.drain();
    // 1 running + 50 queued, plus the catch-up's own count.
    expect(mostPending).toBeLessThanOrEqual(52);
    expect(seen).toEqual(Array.from({ length: 2000 }, (_, n) => n));
  });

  it("4. 'block' without a store: publishers that never await end the subscription instead of growing memory", async () => {
    const errors: unknown[] = [];
    const bus = new EventBus({ store: null, onError: (error) => errors.push(error) });
    const sub = bus.subscribe('n', { bufferSize: 4, overflow: 'block' });
    const publishes = Array.from({ length: 3000 }, (_, n) => bus.publish({ type: 'n', data: n }));
    expect(sub.stats().buffered).toBeLessThanOrEqual(4 + 1024);
    expect(sub.stats().state).not.toBe('open');
    expect(errors).toMatchObject([{ code: 'BUFFER_OVERFLOW' }]);
    await sub.return();
    await Promise.all(publishes);
  });

  it('5. on a shared store, a full iterator never stalls the feed for other subscribers', async () => {
    const store = new SharedMemoryStore();
    const bus = new EventBus({ store, onError: () => {} });
    await bus.ready();
    const stuck = bus.subscribe('a', { bufferSize: 1, overflow: 'block' }); // never read
    const other: unknown[] = [];
    bus.on('other.*', (event) => void other.push(event.data));
    for (let n = 0; n < 50; n++) await bus.publish({ type: 'a', data: n });
    const result = await bus.publish({ type: 'other.x', data: 'hi' });
    expect(result.deliveredTo).toBe(1);
    expect(other).toEqual(['hi']);
    // The stuck reader has lost nothing: it catches up when it reads.
    const got = await take(stuck, 50);
    expect(got.map((e) => e.data)).toEqual(Array.from({ length: 50 }, (_, n) => n));
    await bus.close();
  });

  it('6. one slow handler never delays another, and off() cancels its queued calls', async () => {
    const bus = new EventBus({ store: null });
    let slowCalls = 0;
    const off = bus.on('report.build', async () => {
      slowCalls++;
      await new Promise(() => {}); // never settles
    });
    const fast: string[] = [];
    bus.on('alert.fire', async (event) => void fast.push(event.data as string));
    for (let n = 0; n < 64; n++) await bus.publish({ type: 'report.build', data: n });
    await bus.publish({ type: 'alert.fire', data: 'now' });
    await tick();
    expect(fast).toEqual(['now']);
    expect(slowCalls).toBe(1);
    off();
    await tick();
    expect(slowCalls).toBe(1);
    expect(bus.stats().pendingHandlers).toBe(1); // the one running call
  });

  it('7. close() closes only the store the bus made', async () => {
    const store = new MemoryEventStore();
    const a = new EventBus({ store });
    const b = new EventBus({ store });
    await a.close();
    expect((await b.publish({ type: 'a', data: 1 })).status).toBe('delivered');
    await b.close();
    expect((await store.read({})).events).toHaveLength(1);
  });

  it("8. onLimit 'delay' and two concurrent publishes of one id: delivered once", async () => {
    const bus = new EventBus({ store: null, rateLimit: { rate: 1000, burst: 1, onLimit: 'delay' } });
    const calls: string[] = [];
    bus.on('t', (event) => void calls.push(event.id));
    await bus.publish({ type: 't', data: 0 }); // takes the only token: the next ones wait
    const results = await Promise.all([
      bus.publish({ id: 'same', type: 't', data: 1 }),
      bus.publish({ id: 'same', type: 't', data: 1 }),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual(['delivered', 'duplicate']);
    expect(calls.filter((id) => id === 'same')).toHaveLength(1);
  });

  it('8. a publish that waited for another of its ids past the dedup window is still a duplicate', async () => {
    // Found by the simulation (seed 3320 of 20,000): the waiting batch was judged by the bloom
    // alone once its lock came free, and the bloom had forgotten the ids by then.
    let now = 0;
    const bus = new EventBus({ store: null, clock: () => now, dedup: { windowMs: 50 } });
    const reader = bus.subscribe('t', { bufferSize: 1, overflow: 'block' });
    const batch = [
      { id: 'x', type: 't', data: 1 },
      { id: 'y', type: 't', data: 2 },
    ] as const;
    const first = bus.publishBatch([...batch]); // the reader's buffer holds one: the rest waits
    const second = bus.publishBatch([...batch]);
    await tick();
    now = 10_000; // far past the window while the second waits for the first
    const got = await take(reader, 2);
    expect((await first).map((r) => r.status)).toEqual(['delivered', 'delivered']);
    expect((await second).map((r) => r.status)).toEqual(['duplicate', 'duplicate']);
    expect(got.map((e) => e.id)).toEqual(['x', 'y']);
    await bus.close();
  });

  it('9. ready() rejects STORE_UNAVAILABLE when the store cannot be reached, and CLOSED on close', async () => {
    const unreachable: EventStore = {
      append: async () => {
        throw new Error('down');
      },
      read: async () => {
        throw new Error('ECONNREFUSED');
      },
      // biome-ignore lint/correctness/useYield: a feed that can never start
      async *tail() {
        throw new Error('ECONNREFUSED');
      },
      stats: async () => ({}) as never,
      close: async () => {},
    };
    const bus = new EventBus({ store: unreachable, onError: () => {}, feedTimeoutMs: 20 });
    const error = await bus.ready().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect((error as Error).cause).toMatchObject({ message: 'ECONNREFUSED' });
    await expect(bus.ready({ timeoutMs: 5 })).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    const controller = new AbortController();
    const aborted = bus.ready({ timeoutMs: 60_000, signal: controller.signal });
    controller.abort(new Error('gave up'));
    await expect(aborted).rejects.toThrow('gave up');
    const pending = bus.ready({ timeoutMs: 60_000 });
    await bus.close();
    await expect(pending).rejects.toMatchObject({ code: 'CLOSED' });
  });

  it('10. a reader a little slower than the publisher loses nothing after a gapless replay', async () => {
    const bus = new EventBus({ store: new MemoryEventStore({ maxEventsPerStream: 10_000 }) });
    await bus.publish({ type: 'e', data: -1 });
    const sub = bus.subscribe('e', { from: 'start', bufferSize: 16 });
    const reading = take(sub, 5001, 50);
    for (let n = 0; n < 5000; n++) {
      await bus.publish({ type: 'e', data: n });
      if (n % 40 === 0) await tick();
    }
    const got = await reading;
    expect(got.map((e) => e.data)).toEqual([-1, ...Array.from({ length: 5000 }, (_, n) => n)]);
    expect(sub.stats()).toMatchObject({ dropped: 0, overflow: 'catch-up' });
    expect(bus.stats().dropped).toBe(0);
  });

  it('11. deliveredTo and stats() count user subscriptions only; stats().streams keeps the busiest', async () => {
    const bus = new EventBus({ dedup: false });
    const consumer = await bus.consume('job.*', () => {}, { group: 'g' });
    expect((await bus.publish({ type: 'job.run', data: 1 })).deliveredTo).toBe(0);
    expect(bus.stats().subscriptions).toBe(0);
    await consumer.close();
    const events = Array.from({ length: 5000 }, () => ({ type: 'x', stream: 'busy', data: 0 }));
    await bus.publishBatch(events);
    for (let n = 0; n < 1000; n++) await bus.publish({ type: 'x', stream: `once-${n}`, data: 0 });
    expect(bus.stats().streams[0]).toEqual({ stream: 'busy', published: 5000 });
  });

  it('12. an append that timed out but applied: the error says a retry with the same id is safe, and it is', async () => {
    const store = new FlakyStore();
    const bus = new EventBus({ store, onError: () => {} });
    store.failNext = 'after';
    const error = await bus.publish({ id: 'y', type: 'a', data: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect((error as Error).message).toMatch(/same id again is a safe duplicate/);
    const retry = await bus.publish({ id: 'y', type: 'a', data: 1 });
    expect(retry.status).toBe('duplicate');
    expect(retry.cursor).toBe((await store.read({})).events[0]!.cursor);
  });
});
