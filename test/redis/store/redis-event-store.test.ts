import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ioredisClient,
  nodeRedisClient,
  REDIS_STORE_DEFAULTS,
  type RedisConnection,
  RedisEventStore,
} from '../../../src/redis/index.js';
import { encodeStreamName, RedisKeys } from '../../../src/redis/store/redis-keys.js';
import {
  connectNodeRedis,
  deletePrefix,
  testEvent as event,
  keysOf,
  type NodeRedisClient,
  REDIS_URL,
  uniquePrefix,
  waitFor,
} from './redis-fixtures.js';

let client: NodeRedisClient;
const prefixes: string[] = [];

beforeAll(async () => {
  client = await connectNodeRedis();
});

afterAll(async () => {
  for (const prefix of prefixes.splice(0)) await deletePrefix(client, prefix);
  client.destroy();
});

/** Redis's clock, in ms (Redis ids carry it). */
async function serverMs(): Promise<number> {
  const [seconds, micros] = await client.time();
  return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
}

/** The millisecond part of a cursor's Redis id. */
function msOf(cursor: string): number {
  return Number(cursor.split('-')[1]);
}

/** A cursor of the same epoch one millisecond before `cursor`. */
function cursorBefore(cursor: string): string {
  const [epoch, ms] = cursor.split('-');
  return `${epoch}-${String(Number(ms) - 1).padStart(15, '0')}-${'0'.repeat(10)}`;
}

function store(options: Partial<ConstructorParameters<typeof RedisEventStore>[0]> = {}) {
  const prefix = uniquePrefix('store');
  prefixes.push(prefix);
  return { prefix, store: new RedisEventStore({ client, prefix, ...options }) };
}

describe('RedisEventStore: epochs', () => {
  it('recognises a cursor from before Redis lost its data: truncated, no events, no next', async () => {
    const { prefix, store: s } = store();
    const old = await s.append([event({ stream: 'a' }), event({ stream: 'a' })]);
    // Redis comes back empty: every key of the prefix is gone, the epoch key included.
    expect(await deletePrefix(client, prefix)).toBeGreaterThan(0);
    const empty = await s.read({ after: old[0]!.cursor });
    expect(empty).toEqual({ events: [], truncated: true });
    expect((await s.read({ stream: 'a', after: old[0]!.cursor })).truncated).toBe(true);

    const fresh = await s.append([event({ stream: 'a' })]);
    expect(fresh[0]!.cursor.slice(0, 10)).not.toBe(old[0]!.cursor.slice(0, 10));
    // The old cursor says nothing about a position in the new history: the answer is the
    // truncation alone, with no events and no `next` (a bus subscription reports
    // HISTORY_TRUNCATED and goes live). It used to replay the new history from its start,
    // which let a forged Last-Event-ID scan the whole log (security review, finding 2).
    for (const query of [{}, { stream: 'a' }, { types: ['**'] }, { direction: 'backward' as const }]) {
      expect(await s.read({ ...query, after: old[1]!.cursor })).toEqual({ events: [], truncated: true });
    }
    // Reading the new history takes a read from the start.
    expect((await s.read({})).events.map((e) => e.cursor)).toEqual([fresh[0]!.cursor]);
    // A cursor of the current epoch is not truncated.
    expect((await s.read({ after: fresh[0]!.cursor })).truncated).toBeFalsy();
  });

  it('shares one epoch among stores on one prefix (SET NX), so their cursors are interchangeable', async () => {
    const { prefix, store: a } = store();
    const b = new RedisEventStore({ client, prefix });
    const [x] = await a.append([event()]);
    const [y] = await b.append([event()]);
    expect(x!.cursor.slice(0, 10)).toBe(y!.cursor.slice(0, 10));
    expect((await a.read({ after: x!.cursor })).events.map((e) => e.cursor)).toEqual([y!.cursor]);
    expect((await b.stats()).epoch).toBe(x!.cursor.slice(0, 10));
  });

  it('rejects a malformed cursor with INVALID_OPTION, before any I/O', async () => {
    const { store: s } = store();
    for (const after of ['abc', '1', '99999999999999999999', '5f1c2a9e3b-0000000000000042']) {
      await expect(s.read({ after })).rejects.toMatchObject({ code: 'INVALID_OPTION' });
    }
  });
});

describe('RedisEventStore: retention', () => {
  it('trims a stream to maxEventsPerStream without truncating other streams or the log', async () => {
    const { store: s } = store({ maxEventsPerStream: 2 });
    const [calm] = await s.append([event({ stream: 'calm' })]);
    const busy = await s.append([1, 2, 3, 4].map(() => event({ stream: 'busy' })));
    expect((await s.read({ stream: 'calm', after: calm!.cursor })).truncated).toBeFalsy();
    const page = await s.read({ stream: 'busy', after: calm!.cursor });
    expect(page.truncated).toBe(true);
    expect(page.events.map((e) => e.cursor)).toEqual(busy.slice(2).map((r) => r.cursor));
    // The log of all streams is bounded by maxEvents, not by the per-stream bound: it still has
    // every event, so the all-streams read (and the tail) miss nothing.
    const all = await s.read({ after: calm!.cursor });
    expect(all.truncated).toBeFalsy();
    expect(all.events).toHaveLength(4);
    expect(await s.has(busy[0]!.id)).toBe(true);
  });

  it('trims the log to maxEvents, oldest first, out of their streams too; a stream that empties is deleted', async () => {
    const { prefix, store: s } = store({ maxEvents: 3 });
    const first = await s.append([event({ stream: 'x' }), event({ stream: 'y' })]);
    const later = await s.append([event({ stream: 'y' }), event({ stream: 'z' })]);
    expect((await s.read({})).events.map((e) => e.cursor)).toEqual([
      first[1]!.cursor,
      ...later.map((r) => r.cursor),
    ]);
    expect((await s.read({ stream: 'x' })).events).toEqual([]);
    expect(await s.has(first[0]!.id)).toBe(false);
    expect(await s.has(first[1]!.id)).toBe(true);
    expect((await s.stats()).events).toBe(3);
    expect((await s.stats()).streams).toBe(2);
    const keys = new RedisKeys(prefix);
    expect(await keysOf(client, prefix)).not.toContain(keys.stream('eA')); // 'x' as base64url

    // Cursors before the removal are truncated, for the log and for the emptied stream…
    expect((await s.read({ after: first[0]!.cursor })).truncated).toBeFalsy(); // nothing after it is gone
    const beforeAll = cursorBefore(first[0]!.cursor);
    expect((await s.read({ after: beforeAll })).truncated).toBe(true);
    expect((await s.read({ stream: 'x', after: beforeAll })).truncated).toBe(true);
    // …and for it when it comes back: an old cursor into a re-created stream is flagged too.
    await s.append([event({ stream: 'x' })]);
    expect((await s.read({ stream: 'x', after: beforeAll })).truncated).toBe(true);
    // A removed id can be stored again (it is no longer a duplicate).
    const [again] = await s.append([{ ...event(), id: first[0]!.id }]);
    expect(again!.duplicate).toBe(false);
  });

  it('hides events older than retentionMs, flags cursors into them, and cleanup(now) removes them', async () => {
    // Redis ids carry Redis's time; the cutoff comes from the store's clock. Old events are
    // appended first, fresh ones in a later millisecond; then the clock is set so that the
    // cutoff falls exactly between them.
    let now = Date.now();
    const { prefix, store: s } = store({ retentionMs: 60_000, clock: () => now });
    const old = await s.append([event({ stream: 'a' }), event({ stream: 'b' }), event({ stream: 'a' })]);
    await waitFor(async () => (await serverMs()) > msOf(old[2]!.cursor));
    const fresh = await s.append([event({ stream: 'a' }), event({ stream: 'c' })]);
    now = msOf(fresh[0]!.cursor) + 60_000;

    // Reads hide the aged events at once and flag cursors into them.
    expect((await s.read({})).events.map((e) => e.cursor)).toEqual(fresh.map((r) => r.cursor));
    expect((await s.read({ direction: 'backward' })).events).toHaveLength(2);
    for (const stream of [undefined, 'a', 'b']) {
      expect((await s.read({ stream, after: old[0]!.cursor })).truncated, stream).toBe(true);
    }
    expect((await s.read({ after: old[2]!.cursor })).truncated).toBeFalsy(); // nothing after it aged
    expect((await s.read({ stream: 'c', after: fresh[0]!.cursor })).truncated).toBeFalsy();
    const stats = await s.stats();
    expect(stats.streams).toBe(2); // 'b' was last written before the cutoff

    // cleanup(now) removes them, from their streams and the id index too.
    expect(await s.cleanup(now)).toBe(3);
    expect(await s.cleanup(now)).toBe(0);
    expect(await s.has(old[0]!.id)).toBe(false);
    expect(await s.has(fresh[0]!.id)).toBe(true);
    expect((await s.stats()).events).toBe(2);
    expect((await s.read({ stream: 'a' })).events.map((e) => e.cursor)).toEqual([fresh[0]!.cursor]);
    const keys = new RedisKeys(prefix);
    expect(await keysOf(client, prefix)).not.toContain(keys.stream('Yg')); // 'b' emptied: deleted
    // A cursor into removed history stays flagged, for the log and for the vanished stream.
    expect((await s.read({ after: old[0]!.cursor })).truncated).toBe(true);
    expect((await s.read({ stream: 'b', after: old[0]!.cursor })).truncated).toBe(true);
  });

  it('removes aged events on append too (a bounded number per call)', async () => {
    let now = Date.now();
    const { store: s } = store({ retentionMs: 60_000, clock: () => now });
    const old = await s.append([event(), event()]);
    await waitFor(async () => (await serverMs()) > msOf(old[1]!.cursor));
    now = (await serverMs()) + 60_000;
    const [fresh] = await s.append([event()]);
    expect((await s.stats()).events).toBe(1);
    expect((await s.read({})).events.map((e) => e.cursor)).toEqual([fresh!.cursor]);
  });

  it('gives stream keys an expiry of retentionMs (plus slack), so idle streams vanish on their own', async () => {
    const { prefix, store: s } = store({ retentionMs: 60_000 });
    await s.append([event({ stream: 'idle' })]);
    const keys = new RedisKeys(prefix);
    const ttl = await client.pTTL(keys.stream('aWRsZQ')); // 'idle'
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60_000 + REDIS_STORE_DEFAULTS.expirySlackMs);
    // Its id list outlives it by a second (rebuilt cheaply if the stream is gone first).
    const listTtl = await client.pTTL(keys.streamIds('aWRsZQ'));
    expect(listTtl).toBeGreaterThan(ttl);
    expect(listTtl).toBeLessThanOrEqual(60_000 + REDIS_STORE_DEFAULTS.expirySlackMs + 1000);
  });

  it('cleans up many aged events in bounded script calls', async () => {
    let offset = 0;
    const { store: s } = store({ retentionMs: 1000, clock: () => Date.now() + offset });
    for (let i = 0; i < 5; i++) {
      await s.append(Array.from({ length: 500 }, (_, j) => event({ stream: `s${j % 7}` })));
    }
    offset = 10_000;
    expect(await s.cleanup(Date.now() + offset)).toBe(2500);
    expect((await s.stats()).events).toBe(0);
    expect((await s.stats()).streams).toBe(0);
  });
});

describe('RedisEventStore: the list of ids that trimming reads', () => {
  /** The ids in a stream's key, and in the list that mirrors them. */
  async function idsOf(prefix: string, stream: string) {
    const keys = new RedisKeys(prefix);
    const token = encodeStreamName(stream);
    return {
      stream: ((await client.xRange(keys.stream(token), '-', '+')) ?? []).map((entry) => entry!.id),
      list: await client.lRange(keys.streamIds(token), 0, -1),
    };
  }

  it('mirrors each stream key, through per-stream trimming and through the log removing events', async () => {
    const { prefix, store: s } = store({ maxEventsPerStream: 3, maxEvents: 5 });
    const appended: string[] = [];
    // 11 events: a b | a a a | b | a b a | b b
    for (const streams of [['a', 'b'], ['a', 'a', 'a'], ['b'], ['a', 'b', 'a'], ['b', 'b']]) {
      const results = await s.append(streams.map((stream) => event({ stream })));
      appended.push(...results.map((r) => r.cursor));
      for (const stream of ['a', 'b']) {
        const { stream: ids, list } = await idsOf(prefix, stream);
        expect(list, `${stream} after ${streams}`).toEqual(ids);
      }
    }
    // The log keeps the newest 5 of the 11: 'a' lost some to its own bound, then to the log's.
    expect((await s.read({ stream: 'a' })).events.map((e) => e.cursor)).toEqual([appended[6], appended[8]]);
  });

  it('rebuilds a missing or stale list (data of an older version), and trims and marks exactly', async () => {
    const { prefix, store: s } = store({ maxEventsPerStream: 3 });
    const list = new RedisKeys(prefix).streamIds(encodeStreamName('a'));
    const first = await s.append([1, 2, 3].map(() => event({ stream: 'a' })));
    await client.del(list); // as an older version left it: no list
    const second = await s.append([1, 2].map(() => event({ stream: 'a' })));
    expect((await s.read({ stream: 'a' })).events.map((e) => e.cursor)).toEqual([
      first[2]!.cursor,
      ...second.map((r) => r.cursor),
    ]);
    // The newest removed event is the mark: a cursor at it misses nothing, one before it does.
    expect((await s.read({ stream: 'a', after: first[1]!.cursor })).truncated).toBeFalsy();
    expect((await s.read({ stream: 'a', after: first[0]!.cursor })).truncated).toBe(true);
    let ids = await idsOf(prefix, 'a');
    expect(ids.list).toEqual(ids.stream);

    await client.lPush(list, ['0-1', '0-2']); // stale ids in front (one key expired before the other)
    const third = await s.append([event({ stream: 'a' })]);
    expect((await s.read({ stream: 'a' })).events.map((e) => e.cursor)).toEqual([
      ...second.map((r) => r.cursor),
      third[0]!.cursor,
    ]);
    expect((await s.read({ stream: 'a', after: first[2]!.cursor })).truncated).toBeFalsy();
    expect((await s.read({ stream: 'a', after: first[1]!.cursor })).truncated).toBe(true);
    ids = await idsOf(prefix, 'a');
    expect(ids.list).toEqual(ids.stream);
  });

  it('takes a batch larger than one Lua call can unpack (6000 events in one stream)', async () => {
    const { prefix, store: s } = store({ maxEventsPerStream: 4500 });
    const events = Array.from({ length: 6000 }, () => event({ stream: 'big' }));
    const results = await s.append(events);
    expect(new Set(results.map((r) => r.cursor)).size).toBe(6000);
    expect(results.every((r) => !r.duplicate)).toBe(true);
    const ids = await idsOf(prefix, 'big');
    expect(ids.stream).toHaveLength(4500);
    expect(ids.list).toEqual(ids.stream);
    expect((await s.read({ stream: 'big', after: results[1499]!.cursor })).truncated).toBeFalsy();
    expect((await s.read({ stream: 'big', after: results[1498]!.cursor })).truncated).toBe(true);
    const again = await s.append(events);
    expect(again.map((r) => [r.cursor, r.duplicate])).toEqual(results.map((r) => [r.cursor, true]));
  });
});

describe('RedisEventStore: the client, errors and close', () => {
  it('keeps every key under its {prefix} hash tag', async () => {
    const { prefix, store: s } = store({ maxEventsPerStream: 1 });
    await s.append([event({ stream: 'a:b' }), event({ stream: '{x}' }), event({ stream: '{x}' })]);
    const keys = await keysOf(client, prefix);
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) expect(key.startsWith(`{${prefix}}:`)).toBe(true);
  });

  it('reports stats: events, streams, bounds, the epoch and the log memory', async () => {
    const { store: s } = store();
    await s.append([event({ stream: 'a' }), event({ stream: 'b' }), event({ stream: 'b' })]);
    const stats = await s.stats();
    expect(stats).toMatchObject({
      events: 3,
      streams: 2,
      maxEventsPerStream: 1000,
      maxEvents: 100_000,
      tails: 0,
    });
    expect(stats.epoch).toMatch(/^[0-9a-f]{10}$/);
    expect(stats.logMemoryBytes).toBeGreaterThan(0);
  });

  it('leaves the caller’s client open on close, and rejects every call afterwards with CLOSED', async () => {
    const { store: s } = store();
    await s.append([event()]);
    await s.close();
    await s.close();
    expect(client.isReady).toBe(true);
    for (const call of [
      () => s.append([event()]),
      () => s.read({}),
      () => s.has('x'),
      () => s.cleanup(Date.now()),
      () => s.stats(),
      () => s.tail('now', new AbortController().signal)[Symbol.asyncIterator]().next(),
    ]) {
      await expect(call()).rejects.toMatchObject({ code: 'CLOSED' });
    }
  });

  it('rejects bad options with INVALID_OPTION, and a raw ioredis client with a hint', () => {
    const io = new Redis(REDIS_URL, { lazyConnect: true });
    for (const options of [
      { client: {} },
      { client: null },
      { client, prefix: '{bad}' },
      { client, maxEventsPerStream: 0 },
      { client, maxEvents: 1.5 },
      { client, retentionMs: -1 },
      { client, blockMs: 0 },
      { client, commandTimeoutMs: Number.NaN },
      { client: io },
    ]) {
      expect(() => new RedisEventStore(options as never)).toThrow(
        expect.objectContaining({ code: 'INVALID_OPTION' }),
      );
    }
    expect(() => new RedisEventStore({ client: io as never })).toThrow(/ioredisClient/);
    io.disconnect();
  });

  it('works through the ioredis adapter, whose client stays the caller’s', async () => {
    const io = new Redis(REDIS_URL, { lazyConnect: true });
    await io.connect();
    const prefix = uniquePrefix('io');
    prefixes.push(prefix);
    const s = new RedisEventStore({ client: ioredisClient(io), prefix });
    const [stored] = await s.append([event({ stream: 'ü' })]);
    expect((await s.read({ stream: 'ü' })).events.map((e) => e.cursor)).toEqual([stored!.cursor]);
    expect(await s.has(stored!.id)).toBe(true);
    await s.close();
    expect(io.status).toBe('ready');
    io.disconnect();
  });

  it('loads a script with EVAL when Redis does not know its SHA (NOSCRIPT), then uses EVALSHA', async () => {
    // Without flushing the shared server's script cache: the first EVALSHA of each script asks
    // for an unknown SHA, so Redis genuinely answers NOSCRIPT, as after a restart.
    const real = nodeRedisClient(client);
    const sent: string[] = [];
    const forgetful: RedisConnection = {
      isOpen: true,
      send(args, options) {
        sent.push(args[0]!);
        const unknown = args[0] === 'EVALSHA' && sent.filter((c) => c === 'EVALSHA').length === 1;
        return real.send(unknown ? ['EVALSHA', 'f'.repeat(40), ...args.slice(2)] : args, options);
      },
      duplicate: (signal) => real.duplicate(signal),
      destroy: () => {},
    };
    const prefix = uniquePrefix('noscript');
    prefixes.push(prefix);
    const s = new RedisEventStore({ client: forgetful, prefix });
    await expect(s.append([event()])).resolves.toHaveLength(1);
    await expect(s.append([event()])).resolves.toHaveLength(1);
    expect(sent).toEqual(['EVALSHA', 'EVAL', 'EVALSHA']);
    expect((await s.read({})).events).toHaveLength(2);
  });

  it('rejects with STORE_UNAVAILABLE (cause kept) when Redis answers with an error', async () => {
    const { prefix, store: s } = store();
    await client.set(new RedisKeys(prefix).log, 'not a stream');
    const error = await s.append([event()]).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'STORE_UNAVAILABLE' });
    expect((error as Error).cause).toBeInstanceOf(Error);
  });

  it('rejects with STORE_UNAVAILABLE within commandTimeoutMs when the connection does not answer', async () => {
    const silent: RedisConnection = {
      isOpen: true,
      send: () => new Promise(() => {}),
      duplicate: async () => silent,
      destroy: () => {},
    };
    const s = new RedisEventStore({ client: silent, commandTimeoutMs: 50 });
    for (const call of [() => s.append([event()]), () => s.read({}), () => s.has('x')]) {
      await expect(call()).rejects.toMatchObject({
        code: 'STORE_UNAVAILABLE',
        message: expect.stringMatching(/50 ms/),
      });
    }
  });
});
