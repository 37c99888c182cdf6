import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoredEvent } from '../../../src/event.js';
import { RedisEventStore } from '../../../src/redis/index.js';
import { OwnRedis } from './own-redis.js';
import { connectNodeRedis, testEvent as event, type NodeRedisClient, waitFor } from './redis-fixtures.js';

const COMMAND_TIMEOUT_MS = 1000;
let redis: OwnRedis;
let writer: NodeRedisClient;
let reader: NodeRedisClient;
let impatient: NodeRedisClient; // disableOfflineQueue: rejects at once while disconnected

beforeAll(async () => {
  redis = await OwnRedis.onFreePort();
  await redis.start();
  writer = await connectNodeRedis(redis.url);
  reader = await connectNodeRedis(redis.url);
  impatient = await connectNodeRedis(redis.url, { disableOfflineQueue: true });
}, 20_000);

afterAll(async () => {
  writer?.destroy();
  reader?.destroy();
  impatient?.destroy();
  await redis?.remove();
});

describe('RedisEventStore when Redis dies (kill -9) and comes back with its AOF', () => {
  it('rejects appends with STORE_UNAVAILABLE within the timeout, keeps every acknowledged one, and the tail resumes without a gap', async () => {
    const options = { prefix: 'fault', commandTimeoutMs: COMMAND_TIMEOUT_MS, blockMs: 200 };
    const writing = new RedisEventStore({ client: writer, ...options });
    const reading = new RedisEventStore({ client: reader, ...options });
    const abort = new AbortController();
    const seen: StoredEvent[] = [];
    let tailError: unknown;
    const tailing = (async () => {
      try {
        for await (const item of reading.tail('start', abort.signal)) seen.push(item);
      } catch (error) {
        tailError = error;
      }
    })();

    // A writer appending without pause, through the crash and the restart.
    const acknowledged: string[] = [];
    const failures: { code: unknown; ms: number }[] = [];
    let appendingOn = true;
    const appending = (async () => {
      while (appendingOn) {
        const started = Date.now();
        try {
          const results = await writing.append([event({ stream: 'a' }), event({ stream: 'b' })]);
          acknowledged.push(...results.map((r) => r.cursor));
        } catch (error) {
          failures.push({ code: (error as { code?: unknown }).code, ms: Date.now() - started });
        }
      }
    })();
    await waitFor(() => acknowledged.length >= 200 && seen.length > 0); // the tail is live

    await redis.kill();
    await waitFor(() => failures.length >= 3, 15_000);
    // Reads fail the same way, and a client with disableOfflineQueue fails without waiting.
    for (const call of [() => writing.read({}), () => writing.has('x'), () => writing.stats()]) {
      await expect(call()).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    }
    const failFast = new RedisEventStore({ client: impatient, ...options, commandTimeoutMs: 60_000 });
    const started = Date.now();
    await expect(failFast.append([event()])).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    expect(Date.now() - started).toBeLessThan(30_000); // it did not wait for its (long) timeout
    await redis.start();
    const before = acknowledged.length;
    await waitFor(() => acknowledged.length >= before + 100, 15_000);
    appendingOn = false;
    await appending;

    // Every append during the outage failed, typed, and none waited much past the timeout
    // (a generous bound: it checks "no hang", not speed).
    expect(failures.length).toBeGreaterThanOrEqual(3);
    for (const failure of failures) {
      expect(failure.code).toBe('STORE_UNAVAILABLE');
      expect(failure.ms).toBeLessThan(COMMAND_TIMEOUT_MS + 4000);
    }
    // The tail reconnects by itself and catches up with everything, in log order.
    const last = acknowledged[acknowledged.length - 1]!;
    await waitFor(() => seen.some((e) => e.cursor === last), 15_000);
    abort.abort();
    await tailing;
    expect(tailError).toBeUndefined();

    const log: StoredEvent[] = [];
    for (let after: string | undefined; ; ) {
      const page = await writing.read({ after, limit: 1000 });
      log.push(...page.events);
      if (page.next === undefined) break;
      after = page.next;
    }
    const logCursors = log.map((e) => e.cursor);
    expect(seen.map((e) => e.cursor)).toEqual(logCursors); // no gap, no duplicate, log order
    const stored = new Set(logCursors);
    expect(acknowledged.filter((cursor) => !stored.has(cursor))).toEqual([]); // nothing acknowledged was lost
    // Appends that timed out were withdrawn from the client's offline queue, not sent on
    // reconnect: at most the one batch in flight at the crash may have landed unacknowledged.
    expect(log.length - acknowledged.length).toBeLessThanOrEqual(2);
    expect((await reading.stats()).tailRetries).toBeGreaterThan(0);
    await Promise.all([writing.close(), reading.close()]);
  }, 40_000);
});
