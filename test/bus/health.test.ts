import { afterAll, describe, expect, it } from 'vitest';
import { EventBus, type EventStore, InvalidOptionError, MemoryEventStore } from '../../src/index.js';
import { RedisEventStore } from '../../src/redis/index.js';
import { turn } from '../groups/support.js';
import { connectNodeRedis, deletePrefix, uniquePrefix } from '../redis/store/redis-fixtures.js';

/** Waits turn by turn until `condition` resolves true; fails after `maxTurns`. */
async function until(condition: () => Promise<boolean>, what: string, maxTurns = 2000): Promise<void> {
  for (let i = 0; i < maxTurns; i++) {
    if (await condition()) return;
    await turn();
  }
  throw new Error(`Timed out waiting for: ${what}`);
}

/** The memory store through the port, with a switch that makes every call hang or fail. */
function switchableStore() {
  const inner = new MemoryEventStore();
  const state = { mode: 'ok' as 'ok' | 'hang' | 'fail' };
  const gate = <T>(call: () => Promise<T>): Promise<T> =>
    state.mode === 'ok'
      ? call()
      : state.mode === 'hang'
        ? new Promise<T>(() => {})
        : Promise.reject(new Error('connection refused'));
  const store: EventStore = {
    append: (events) => gate(() => inner.append(events)),
    read: (query) => gate(() => inner.read(query)),
    stats: () => gate(() => inner.stats()),
    close: () => inner.close(),
  };
  return { store, state };
}

describe('bus.health()', () => {
  it('a healthy bus on the memory store', async () => {
    const bus = new EventBus();
    expect(await bus.health()).toEqual({
      ok: true,
      closed: false,
      store: { reachable: true },
      feed: null,
      groups: [],
    });
    await bus.close();
    expect(await bus.health()).toMatchObject({ ok: false, closed: true });
  });

  it('a store that does not answer in time is unreachable, with the timeout as its last error', async () => {
    const { store, state } = switchableStore();
    const bus = new EventBus({ store });
    state.mode = 'hang';
    const health = await bus.health({ timeoutMs: 30 });
    expect(health.ok).toBe(false);
    expect(health.store).toMatchObject({
      reachable: false,
      lastError: { name: 'TimeoutError', message: expect.stringContaining('30 ms') },
    });
    state.mode = 'ok';
    // Reachable again; the last error stays, with its time, until a newer one replaces it.
    expect((await bus.health()).store).toMatchObject({
      reachable: true,
      lastError: { name: 'TimeoutError' },
    });
    await bus.close();
  });

  it('a failed append is the store last error', async () => {
    const { store, state } = switchableStore();
    const bus = new EventBus({ store });
    state.mode = 'fail';
    await expect(bus.publish({ type: 'a', data: 1 })).rejects.toThrow();
    state.mode = 'ok';
    const health = await bus.health();
    expect(health.store?.lastError).toMatchObject({ name: 'Error', message: 'connection refused' });
    expect(health.store?.lastError?.at).toBeGreaterThan(0);
    await bus.close();
  });

  it("each group's consumers, pending and dead-letter counts", async () => {
    const bus = new EventBus();
    await bus.consume(
      'job.*',
      () => {
        throw new Error('broken');
      },
      { group: 'workers', maxDeliveries: 1 },
    );
    await bus.consume('job.*', () => {}, { group: 'audit' });
    await bus.publishBatch([1, 2].map((n) => ({ type: 'job.run', data: n })));
    await until(async () => (await bus.deadLetters('workers').list()).length === 2, 'dead letters');
    const { groups } = await bus.health();
    expect(groups.sort((a, b) => a.group.localeCompare(b.group))).toEqual([
      { group: 'audit', consumers: 1, pending: 0, deadLetters: 0 },
      { group: 'workers', consumers: 1, pending: 0, deadLetters: 2 },
    ]);
    await bus.close();
  });

  it('refuses a bad timeout', async () => {
    const bus = new EventBus();
    await expect(bus.health({ timeoutMs: -1 })).rejects.toBeInstanceOf(InvalidOptionError);
    await bus.close();
  });
});

describe('bus.health() on Redis', async () => {
  const client = await connectNodeRedis();
  const prefix = uniquePrefix('health');
  afterAll(async () => {
    await deletePrefix(client, prefix);
    await client.quit();
  });

  it("a shared store's feed: positioned, and how late the last event arrived", async () => {
    const store = new RedisEventStore({ client, prefix });
    const bus = new EventBus({ store });
    // The feed decodes only events someone here subscribes to: lag is measured on those.
    bus.on('a', () => {});
    await bus.ready();
    expect((await bus.health()).feed).toEqual({ positioned: true });
    const other = new EventBus({ store: new RedisEventStore({ client, prefix }) });
    // Stamped 500 ms in the past by its publisher: the feed delivers it at least that late.
    await other.publish({ type: 'a', data: 1, time: Date.now() - 500 });
    await until(async () => (await bus.health()).feed?.lagMs !== undefined, 'the event through the feed');
    const health = await bus.health();
    expect(health.ok).toBe(true);
    expect(health.feed?.lagMs).toBeGreaterThanOrEqual(500);
    expect(health.store).toEqual({ reachable: true });
    await Promise.all([bus.close(), other.close()]);
  });
});

describe('bus.stats(): buffered and catchingUp', () => {
  it('counts events waiting in buffers and queues, and subscriptions reading the store', async () => {
    const { store, state } = switchableStore();
    const bus = new EventBus({ store });
    // An iterator nobody reads, with two patterns (counted once), and a handler that holds its calls.
    const unread = bus.subscribe(['a', 'b'], { bufferSize: 10 });
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    bus.on('a', () => held);
    for (let n = 0; n < 3; n++) await bus.publish({ type: 'a', data: n });
    // Iterator: 3 buffered. Handler: the first call runs, 2 wait in its queue.
    expect(bus.stats()).toMatchObject({ buffered: 5, catchingUp: 0 });
    // A replay whose store reads hang: reading the store, and the live events it holds meanwhile.
    state.mode = 'hang';
    const replaying = bus.subscribe('a', { from: 'start' });
    await turn();
    expect(bus.stats()).toMatchObject({ catchingUp: 1 });
    state.mode = 'ok';
    release();
    await unread.return();
    await replaying.return();
    await bus.close({ timeoutMs: 100 });
  });
});

describe('bus.stats(): catchUpLag', () => {
  it('counts the events a reader that fell behind is owed, down to 0 once it caught up', async () => {
    const bus = new EventBus();
    const sub = bus.subscribe('a', { bufferSize: 4 });
    for (let n = 1; n <= 10; n++) await bus.publish({ type: 'a', data: n });
    // 4 in the buffer; the 5th found it full: it and the 5 after it are owed from the store.
    expect(bus.stats()).toMatchObject({ catchingUp: 1, catchUpLag: 6 });
    const read: unknown[] = [];
    for (let i = 0; i < 6; i++) read.push((await sub.next()).value?.data);
    // The catch-up refilled the buffer from the store as room freed: 4 of the 6 taken.
    await turn();
    expect(bus.stats().catchUpLag).toBeLessThan(6);
    for (let i = 0; i < 4; i++) read.push((await sub.next()).value?.data);
    await turn();
    expect(read).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(bus.stats()).toMatchObject({ catchingUp: 0, catchUpLag: 0 });
    await sub.return();
    await bus.close();
  });
});
