import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoredEvent } from '../../../src/event.js';
import { ioredisClient, nodeRedisClient, RedisEventStore } from '../../../src/redis/index.js';
import {
  connectNodeRedis,
  deletePrefix,
  testEvent as event,
  type NodeRedisClient,
  REDIS_URL,
  uniquePrefix,
  waitFor,
} from './redis-fixtures.js';

let writer: NodeRedisClient; // "another process": appends through its own client and store
let reader: NodeRedisClient; // the tailing side, named so that its connections can be counted
const readerName = `busline-tail-test-${process.pid}-${randomBytes(3).toString('hex')}`;
const prefixes: string[] = [];

beforeAll(async () => {
  writer = await connectNodeRedis();
  reader = createClient({ url: REDIS_URL, name: readerName }) as unknown as NodeRedisClient;
  reader.on('error', () => {});
  await reader.connect();
});

afterAll(async () => {
  for (const prefix of prefixes.splice(0)) await deletePrefix(writer, prefix);
  writer.destroy();
  reader.destroy();
});

/** A reading store and a writing store on one fresh prefix, on two connections. */
function pair(
  options: { blockMs?: number; tailBatchSize?: number; maxEvents?: number; retentionMs?: number } = {},
) {
  const prefix = uniquePrefix('tail');
  prefixes.push(prefix);
  return {
    prefix,
    reading: new RedisEventStore({ client: reader, prefix, blockMs: 100, ...options }),
    writing: new RedisEventStore({ client: writer, prefix, maxEvents: options.maxEvents }),
  };
}

/** Collects a tail's events in the background until it ends; `error` holds how it ended. */
function collect(feed: AsyncIterable<StoredEvent>) {
  const seen: StoredEvent[] = [];
  const state: { done: boolean; error?: unknown } = { done: false };
  const running = (async () => {
    try {
      for await (const item of feed) seen.push(item);
    } catch (error) {
      state.error = error;
    } finally {
      state.done = true;
    }
  })();
  return { seen, state, running };
}

/** Connections of the reading client (its own and the store's duplicate: same name). */
async function readerConnections(): Promise<number> {
  const list = await writer.sendCommand<string>(['CLIENT', 'LIST']);
  return list.split('\n').filter((line) => line.includes(` name=${readerName} `)).length;
}

describe('RedisEventStore.tail', () => {
  it('yields events appended by another client, strictly after the cursor, in log order', async () => {
    const { reading, writing } = pair();
    const before = await writing.append([event(), event()]);
    const abort = new AbortController();
    const tail = collect(reading.tail(before[0]!.cursor, abort.signal));
    const after = await writing.append([event({ stream: 'x' }), event({ stream: 'y' })]);
    await waitFor(() => tail.seen.length === 3);
    expect(tail.seen.map((e) => e.cursor)).toEqual([before[1]!.cursor, ...after.map((r) => r.cursor)]);
    expect(tail.seen[1]).toMatchObject({ stream: 'x', type: 'task.created' });
    abort.abort();
    await tail.running;
    expect(tail.state.error).toBeUndefined();
  });

  it("starts after the newest event for 'now', and at the oldest retained one for 'start'", async () => {
    const { reading, writing } = pair();
    const old = await writing.append([event(), event()]);
    const abort = new AbortController();
    const now = collect(reading.tail('now', abort.signal));
    const start = collect(reading.tail('start', abort.signal));
    await waitFor(() => start.seen.length === 2);
    // 'now' is positioned once the tail's first read is under way; give it an event to prove it.
    const [fresh] = await writing.append([event()]);
    await waitFor(() => now.seen.length === 1 && start.seen.length === 3);
    expect(now.seen.map((e) => e.cursor)).toEqual([fresh!.cursor]);
    expect(start.seen.map((e) => e.cursor)).toEqual([...old, fresh!].map((r) => r.cursor));
    abort.abort();
    await Promise.all([now.running, start.running]);
  });

  it('loses nothing across many small blocked reads while another client appends 5,000 events', async () => {
    const { reading, writing } = pair({ blockMs: 5, tailBatchSize: 7 });
    const abort = new AbortController();
    const [first] = await writing.append([event()]);
    const tail = collect(reading.tail(first!.cursor, abort.signal));
    const appended: string[] = [];
    for (let sent = 0; sent < 5000; ) {
      const size = Math.min(5000 - sent, 1 + Math.floor(Math.random() * 25));
      const batch = Array.from({ length: size }, (_, i) => event({ stream: `s${(sent + i) % 13}` }));
      const results = await writing.append(batch);
      appended.push(...results.map((r) => r.cursor));
      sent += size;
      if (sent % 500 < size) await new Promise((resolve) => setTimeout(resolve, 1)); // let reads interleave
    }
    await waitFor(() => tail.seen.length >= 5000, 20_000);
    abort.abort();
    await tail.running;
    expect(tail.seen.map((e) => e.cursor)).toEqual(appended);
    expect(tail.state.error).toBeUndefined();
  });

  it('ends at once on abort and releases its blocking connection (opened lazily, only one)', async () => {
    const { reading, writing } = pair({ blockMs: 10_000 });
    expect(await readerConnections()).toBe(1);
    // After a cursor, not 'now': a tail placed at 'now' after the append below (its first read
    // is async) would never see that event, and the test would wait for it in vain.
    const [first] = await writing.append([event()]);
    const abort = new AbortController();
    const a = collect(reading.tail(first!.cursor, abort.signal));
    const other = new AbortController();
    const b = collect(reading.tail(first!.cursor, other.signal));
    await writing.append([event()]);
    await waitFor(() => a.seen.length === 1 && b.seen.length === 1);
    expect(await readerConnections()).toBe(2); // two tails share one duplicate
    expect((await reading.stats()).tails).toBe(2);
    // Both are now blocked in XREAD for up to 10 s; an abort must not wait for that.
    abort.abort();
    await a.running;
    expect(b.state.done).toBe(false);
    other.abort();
    await b.running;
    await waitFor(async () => (await readerConnections()) === 1);
    expect((await reading.stats()).tails).toBe(0);
    expect(reader.isReady).toBe(true); // the caller's client is untouched
  });

  it('ends when the store closes, and a tail of a closed store rejects with CLOSED', async () => {
    const { reading } = pair({ blockMs: 10_000 });
    const tail = collect(reading.tail('now', new AbortController().signal));
    await waitFor(async () => (await readerConnections()) === 2);
    await reading.close();
    await tail.running;
    expect(tail.state.error).toBeUndefined();
    await waitFor(async () => (await readerConnections()) === 1);
    await expect(
      reading.tail('now', new AbortController().signal)[Symbol.asyncIterator]().next(),
    ).rejects.toMatchObject({ code: 'CLOSED' });
  });

  it('throws HISTORY_TRUNCATED when Redis loses its data under it (a new epoch), instead of resuming', async () => {
    const { prefix, reading, writing } = pair();
    const abort = new AbortController();
    const tail = collect(reading.tail('now', abort.signal));
    await writing.append([event()]);
    await waitFor(() => tail.seen.length === 1);
    await deletePrefix(writer, prefix); // Redis came back empty…
    await writing.append([event()]); // …and someone wrote again: a new epoch
    await waitFor(() => tail.state.done);
    expect(tail.state.error).toMatchObject({ code: 'HISTORY_TRUNCATED' });
    expect(tail.seen).toHaveLength(1);
    abort.abort();
  });

  it('refuses to start from a cursor of another epoch, or one whose successors retention removed', async () => {
    const { prefix, reading, writing } = pair({ maxEvents: 2 });
    const first = await writing.append([event(), event(), event()]); // the oldest is trimmed
    const signal = new AbortController().signal;
    const next = (after: string) => reading.tail(after, signal)[Symbol.asyncIterator]().next();
    // After the trimmed event itself nothing is missing; before it, something is.
    const before = first[0]!.cursor.replace(
      /-(\d{15})-/,
      (_, ms: string) => `-${String(Number(ms) - 1).padStart(15, '0')}-`,
    );
    await expect(next(before)).rejects.toMatchObject({ code: 'HISTORY_TRUNCATED' });
    await deletePrefix(writer, prefix);
    await writing.append([event()]);
    await expect(next(first[2]!.cursor)).rejects.toMatchObject({ code: 'HISTORY_TRUNCATED' });
    await expect(next('not-a-cursor')).rejects.toMatchObject({ code: 'INVALID_OPTION' });
  });

  it('names the head of a store never written to, and a tail after it reports retention that passed it', async () => {
    // The place a shared bus's feed takes on an empty store (ReadPage.head): unlike 'start', a
    // tail reopened there after a lost connection can tell that events were trimmed meanwhile.
    const { reading, writing } = pair({ maxEvents: 2 });
    const { events, head } = await reading.read({ direction: 'backward', limit: 1 });
    expect(events).toEqual([]);
    expect(head).toMatch(/^[0-9a-f]{10}-0{15}-0{10}$/); // the epoch it made, before the first id
    await writing.append([event(), event(), event()]); // the oldest is trimmed
    const signal = new AbortController().signal;
    const next = (after: string) => reading.tail(after, signal)[Symbol.asyncIterator]().next();
    await expect(next(head!)).rejects.toMatchObject({ code: 'HISTORY_TRUNCATED' });
    // With nothing trimmed past it, the same head resumes at the first event appended after it.
    const fresh = pair();
    const empty = await fresh.reading.read({ direction: 'backward', limit: 1 });
    const [first] = await fresh.writing.append([event()]);
    const tail = fresh.reading.tail(empty.head!, signal)[Symbol.asyncIterator]();
    expect((await tail.next()).value?.cursor).toBe(first!.cursor);
    await tail.return?.();
    // Once written, the newest end is the newest event: no head.
    expect((await writing.read({ direction: 'backward', limit: 1 })).head).toBeUndefined();
  });

  it('names the head after entries past retentionMs, so a feed placed there does not replay them as new', async () => {
    const { reading, writing } = pair({ retentionMs: 30 });
    await writing.append([event(), event()]);
    await new Promise((resolve) => setTimeout(resolve, 80)); // both are now past the cutoff
    const { events, head } = await reading.read({ direction: 'backward', limit: 1 });
    expect(events).toEqual([]);
    const tail = reading.tail(head!, new AbortController().signal)[Symbol.asyncIterator]();
    const [fresh] = await writing.append([event()]);
    expect((await tail.next()).value?.cursor).toBe(fresh!.cursor);
    await tail.return?.();
  });

  it("is not cut short by a node-redis client's own command timeout shorter than blockMs", async () => {
    // A client-wide `commandOptions.timeout` reaches the duplicate too; the store passes its own
    // per-command options (and deadline), so it must not end a blocked read early.
    const impatient = createClient({ url: REDIS_URL, commandOptions: { timeout: 100 } });
    impatient.on('error', () => {});
    await impatient.connect();
    const prefix = uniquePrefix('tail-timeout');
    prefixes.push(prefix);
    const reading = new RedisEventStore({ client: impatient, prefix, blockMs: 400 });
    const writing = new RedisEventStore({ client: writer, prefix });
    const abort = new AbortController();
    const tail = collect(reading.tail('now', abort.signal));
    await waitFor(async () => (await reading.stats()).tails === 1);
    await new Promise((resolve) => setTimeout(resolve, 1000)); // two blocked reads of 400 ms end empty
    const appended = await writing.append([event()]);
    await waitFor(() => tail.seen.length === 1);
    expect(tail.seen[0]!.cursor).toBe(appended[0]!.cursor);
    expect((await reading.stats()).tailRetries).toBe(0);
    expect(tail.state.error).toBeUndefined();
    abort.abort();
    await tail.running;
    await reading.close();
    impatient.destroy();
  });

  it('works through the ioredis adapter, with a duplicate of the ioredis client', async () => {
    const io = new Redis(REDIS_URL, { lazyConnect: true });
    io.on('error', () => {});
    await io.connect();
    const prefix = uniquePrefix('tail-io');
    prefixes.push(prefix);
    const reading = new RedisEventStore({ client: ioredisClient(io), prefix, blockMs: 50 });
    const writing = new RedisEventStore({ client: writer, prefix });
    const abort = new AbortController();
    const tail = collect(reading.tail('start', abort.signal));
    const appended = await writing.append(Array.from({ length: 300 }, () => event()));
    await waitFor(() => tail.seen.length === 300);
    expect(tail.seen.map((e) => e.cursor)).toEqual(appended.map((r) => r.cursor));
    abort.abort();
    await tail.running;
    await reading.close();
    expect(io.status).toBe('ready');
    io.disconnect();
  });

  it('reads the same through RESP2 clients (node-redis RESP: 2, ioredis protocol: 2)', async () => {
    const resp2 = createClient({ url: REDIS_URL, RESP: 2 });
    resp2.on('error', () => {});
    await resp2.connect();
    const io2 = new Redis(REDIS_URL, { lazyConnect: true, protocol: 2 });
    io2.on('error', () => {});
    await io2.connect();
    const prefix = uniquePrefix('resp2');
    prefixes.push(prefix);
    const writing = new RedisEventStore({ client: writer, prefix });
    for (const [stream, client] of [
      ['node', nodeRedisClient(resp2)],
      ['io', ioredisClient(io2)],
    ] as const) {
      const reading = new RedisEventStore({ client, prefix, blockMs: 50 });
      const abort = new AbortController();
      const tail = collect(reading.tail('now', abort.signal));
      await waitFor(async () => (await reading.stats()).tails === 1);
      const appended = await writing.append([event({ stream, meta: { k: 'v' } })]);
      await waitFor(() => tail.seen.length === 1);
      expect(tail.seen.map((e) => e.cursor)).toEqual(appended.map((r) => r.cursor));
      const page = await reading.read({ stream, after: appended[0]!.cursor, direction: 'backward' });
      expect(page.events).toEqual([]);
      expect((await reading.read({ stream })).events.map((e) => e.meta)).toEqual([{ k: 'v' }]);
      expect(await reading.has(appended[0]!.id)).toBe(true);
      abort.abort();
      await tail.running;
      await reading.close();
    }
    resp2.destroy();
    io2.disconnect();
  });
});
