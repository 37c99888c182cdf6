import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EventBus } from '../../../src/index.js';
import { REDIS_STORE_DEFAULTS, RedisEventStore } from '../../../src/redis/index.js';
import { appendChunks } from '../../../src/redis/store/append-chunks.js';
import { APPEND } from '../../../src/redis/store/lua-scripts.js';
import { type CountingConnection, countedStores } from './counting-connection.js';
import { testEvent as event } from './redis-fixtures.js';

/**
 * Security review, finding 4 (proof script redis-big-batch.mjs): a `publishBatch` of 20,000
 * events was one Lua call that blocked Redis for 310 ms. An append is now split into script
 * calls of at most 500 events and 1 MiB of JSON; each is atomic, the whole is idempotent.
 */
const stores = countedStores('append-chunks');
const counted = stores.counted;

/** The append script calls sent: events and bytes of JSON each carried. */
function appendCalls(counting: CountingConnection): { events: number; bytes: number }[] {
  return counting.sent
    .filter(
      (c) =>
        (c.args[0] === 'EVALSHA' && c.args[1] === APPEND.sha) ||
        (c.args[0] === 'EVAL' && c.args[1] === APPEND.source),
    )
    .map((c) => {
      // EVALSHA sha numkeys keys… ARGV: 7 fixed, then id, token and the packed entry (id,
      // token, type and JSON joined by newlines) per event.
      const argv = c.args.slice(3 + Number(c.args[2]) + 7);
      let bytes = 0;
      for (let i = 2; i < argv.length; i += 3) {
        const json = argv[i]!.split('\n').slice(3).join('\n');
        bytes += Buffer.byteLength(json, 'utf8');
      }
      return { events: argv.length / 3, bytes };
    });
}

describe('RedisEventStore.append in bounded script calls', () => {
  it('defaults to 500 events and 1 MiB per script call', () => {
    expect(REDIS_STORE_DEFAULTS.appendChunkEvents).toBe(500);
    expect(REDIS_STORE_DEFAULTS.appendChunkBytes).toBe(1024 * 1024);
  });

  it('splits by count and by bytes; an event larger than the byte bound goes alone', () => {
    const small = Array.from({ length: 1200 }, () => 'x'.repeat(10));
    expect(appendChunks(small, 500, 1 << 20)).toEqual([
      [0, 500],
      [500, 1000],
      [1000, 1200],
    ]);
    const big = ['x'.repeat(600), 'x'.repeat(600), 'x'.repeat(2000), 'x'.repeat(100), 'x'.repeat(100)];
    expect(appendChunks(big, 500, 1000)).toEqual([
      [0, 1],
      [1, 2],
      [2, 3],
      [3, 5],
    ]);
    // UTF-8 bytes, not UTF-16 units: 'é' is two bytes.
    expect(appendChunks(['é'.repeat(300), 'é'.repeat(300)], 500, 1000)).toEqual([
      [0, 1],
      [1, 2],
    ]);
  });

  it('publishes a batch of 20,000 (the proof script) in script calls of at most 500 events, all stored in order', async () => {
    const { store, counting, keys } = counted();
    const bus = new EventBus({ store, onError: () => {} });
    const batch = Array.from({ length: 20_000 }, (_, i) => ({ type: 'a', stream: `s${i}`, data: 0 }));
    const results = await bus.publishBatch(batch);
    expect(results.every((r) => r.status === 'delivered')).toBe(true);
    const cursors = results.map((r) => r.cursor!);
    expect([...cursors].sort()).toEqual(cursors); // in order, across calls
    const calls = appendCalls(counting);
    expect(calls).toHaveLength(40);
    expect(calls.every((c) => c.events === 500 && c.bytes <= 1024 * 1024)).toBe(true);
    expect(await stores.client.xLen(keys.log)).toBe(20_000);
    await bus.close();
  });

  it('splits large events by bytes: 1 MiB of JSON per call at most', async () => {
    const { store, counting } = counted();
    const data = 'x'.repeat(60_000);
    const results = await store.append(Array.from({ length: 40 }, () => event({ data })));
    expect(results).toHaveLength(40);
    const calls = appendCalls(counting);
    expect(calls.map((c) => c.events)).toEqual([17, 17, 6]);
    expect(calls.every((c) => c.bytes <= 1024 * 1024)).toBe(true);
  });

  it('finds duplicates across script calls of one append, answering the first cursor', async () => {
    const { store } = counted({ appendChunkEvents: 3 });
    const events = Array.from({ length: 8 }, () => event());
    const repeated = [...events, events[1]!, events[6]!];
    const results = await store.append(repeated);
    expect(results.map((r) => r.duplicate)).toEqual([...Array(8).fill(false), true, true]);
    expect(results[8]!.cursor).toBe(results[1]!.cursor);
    expect(results[9]!.cursor).toBe(results[6]!.cursor);
  });

  it('validates and serializes every event before the first call: a bad one writes nothing', async () => {
    const { store, counting, keys } = counted({ appendChunkEvents: 2 });
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const events = [event(), event(), event(), event(), event({ data: cyclic })];
    await expect(store.append(events)).rejects.toMatchObject({ code: 'INVALID_EVENT', index: 4 });
    expect(appendCalls(counting)).toHaveLength(0);
    expect(await stores.client.exists(keys.log)).toBe(0);
  });

  it('a failure after the first call leaves the calls before stored, says so, and a retry completes it', async () => {
    const { store, counting, keys } = counted({ appendChunkEvents: 4 });
    const events = Array.from({ length: 10 }, (_, i) => event({ data: i }));
    let calls = 0;
    // The third script call (events 8 and 9) never reaches Redis.
    counting.refuse = (args) => args[0] === 'EVALSHA' && args[1] === APPEND.sha && ++calls === 3;
    const failure = await store.append(events).catch((error: unknown) => error);
    expect(failure).toMatchObject({ code: 'STORE_UNAVAILABLE', mayHaveApplied: true });
    expect((failure as Error).message).toContain('stored events 0 to 7');
    expect((failure as Error).message).toContain('completes it');
    expect(await stores.client.xLen(keys.log)).toBe(8);
    counting.refuse = undefined;
    const retried = await store.append(events);
    expect(retried.map((r) => r.duplicate)).toEqual([...Array(8).fill(true), false, false]);
    expect(await stores.client.xLen(keys.log)).toBe(10);
    const page = await store.read({});
    expect(page.events.map((e) => e.data)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('a failure of the first call is reported as before (nothing stored)', async () => {
    const { store, counting, keys } = counted({ appendChunkEvents: 4 });
    counting.refuse = (args) => args[0] === 'EVALSHA';
    await expect(store.append(Array.from({ length: 10 }, () => event()))).rejects.toMatchObject({
      code: 'STORE_UNAVAILABLE',
      mayHaveApplied: false,
    });
    expect(await stores.client.exists(keys.log)).toBe(0);
  });

  it('rejects chunk bounds that are not positive integers', () => {
    for (const bad of [0, -1, 1.5, '500']) {
      expect(() => new RedisEventStore({ client: stores.client, appendChunkEvents: bad as never })).toThrow(
        expect.objectContaining({ code: 'INVALID_OPTION' }),
      );
      expect(() => new RedisEventStore({ client: stores.client, appendChunkBytes: bad as never })).toThrow(
        expect.objectContaining({ code: 'INVALID_OPTION' }),
      );
      expect(() => new RedisEventStore({ client: stores.client, readScanLimit: bad as never })).toThrow(
        expect.objectContaining({ code: 'INVALID_OPTION' }),
      );
      expect(() => new RedisEventStore({ client: stores.client, maxGroupPatterns: bad as never })).toThrow(
        expect.objectContaining({ code: 'INVALID_OPTION' }),
      );
    }
  });
});

describe('appendChunks measures only near the byte bound', () => {
  /** The reference: every event measured. */
  function measured(encoded: readonly string[], maxEvents: number, maxBytes: number): [number, number][] {
    const chunks: [number, number][] = [];
    let from = 0;
    let bytes = 0;
    for (let i = 0; i < encoded.length; i++) {
      const size = Buffer.byteLength(encoded[i]!, 'utf8');
      if (i > from && (i - from >= maxEvents || bytes + size > maxBytes)) {
        chunks.push([from, i]);
        from = i;
        bytes = 0;
      }
      bytes += size;
    }
    chunks.push([from, encoded.length]);
    return chunks;
  }

  it('splits exactly where measuring every event would', () => {
    const text = fc.oneof(fc.string({ maxLength: 60 }), fc.string({ maxLength: 60, unit: 'grapheme' }));
    fc.assert(
      fc.property(
        fc.array(text, { minLength: 1, maxLength: 80 }),
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 1, max: 400 }),
        (encoded, maxEvents, maxBytes) => {
          expect(appendChunks(encoded, maxEvents, maxBytes)).toEqual(measured(encoded, maxEvents, maxBytes));
        },
      ),
      { numRuns: 500 },
    );
  });
});
