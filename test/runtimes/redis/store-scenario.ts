import type { BusEvent, StoredEvent } from 'busline';
import { RedisEventStore, type RedisEventStoreOptions } from 'busline/redis';
import { createClient } from 'redis';
import { deepEqual, equal, ok, test } from '../portable/harness.js';

/**
 * RedisEventStore against the real Redis on 127.0.0.1:6379 through node-redis, written for the
 * portable harness so Bun and Deno run it (the conformance suite, describeEventStore, needs
 * vitest). Every test has its own client and key prefix, and deletes its keys after.
 */
const REDIS_URL = 'redis://127.0.0.1:6379';

async function withStore(
  options: Omit<RedisEventStoreOptions, 'client' | 'prefix'>,
  fn: (store: RedisEventStore) => Promise<void>,
): Promise<void> {
  const client = createClient({ url: REDIS_URL });
  await client.connect();
  const prefix = `busline-test:runtime:${crypto.randomUUID()}`;
  const store = new RedisEventStore({ client, prefix, ...options });
  try {
    await fn(store);
  } finally {
    await store.close();
    for await (const keys of client.scanIterator({ MATCH: `{${prefix}}:*`, COUNT: 1000 })) {
      if (keys.length > 0) await client.del(keys);
    }
    client.destroy();
  }
}

let nextId = 0;
const event = (data: number, type = 'task.created'): BusEvent => ({
  id: `runtime-${crypto.randomUUID()}-${++nextId}`,
  type,
  stream: 'default',
  time: Date.now(),
  data,
});
const dataOf = (events: readonly StoredEvent[]) => events.map((e) => e.data);

/** Registers the Redis store tests (called by the Redis entry; see suite.ts on why a call). */
export function redisStoreTests(): void {
  test('redis store: append, then read forward and backward with paging', () =>
    withStore({}, async (store) => {
      const appended = await store.append([event(1), event(2), event(3, 'user.created'), event(4)]);
      ok(
        appended.every((r, i) => !r.duplicate && (i === 0 || appended[i - 1]!.cursor < r.cursor)),
        'cursors ascend',
      );
      const first = await store.read({ limit: 2 });
      deepEqual(dataOf(first.events), [1, 2]);
      deepEqual(dataOf((await store.read({ after: first.next! })).events), [3, 4]);
      deepEqual(dataOf((await store.read({ direction: 'backward', types: ['task.*'] })).events), [4, 2, 1]);
      equal((await store.stats()).events, 4);
    }));

  test('redis store: appending a stored id writes nothing and returns the first cursor', () =>
    withStore({}, async (store) => {
      const original = event(1);
      const [first] = await store.append([original]);
      const again = await store.append([{ ...original, data: 99 }, event(2), { ...original, data: 100 }]);
      deepEqual(
        again.map((r) => [r.id, r.cursor === first!.cursor, r.duplicate]),
        [
          [original.id, true, true],
          [again[1]!.id, false, false],
          [original.id, true, true],
        ],
      );
      deepEqual(dataOf((await store.read({})).events), [1, 2]);
      equal(await store.has!(original.id), true);
      equal(await store.has!('never-stored'), false);
    }));

  test('redis store: tail delivers events appended after its cursor, in order', () =>
    withStore({ blockMs: 100 }, async (store) => {
      const [before] = await store.append([event(0)]);
      const controller = new AbortController();
      const seen: unknown[] = [];
      const tailing = (async () => {
        for await (const e of store.tail!(before!.cursor, controller.signal)) {
          seen.push(e.data);
          if (seen.length === 3) break;
        }
      })();
      await store.append([event(1)]);
      await store.append([event(2), event(3)]);
      await tailing;
      controller.abort();
      deepEqual(seen, [1, 2, 3]);
    }));

  test('redis store: keeps maxEvents and reports a cursor it dropped as truncated', () =>
    withStore({ maxEvents: 3 }, async (store) => {
      const appended = await store.append([1, 2, 3, 4, 5].map((n) => event(n)));
      deepEqual(dataOf((await store.read({})).events), [3, 4, 5]);
      const page = await store.read({ after: appended[0]!.cursor });
      equal(page.truncated, true, 'events after the first cursor were dropped');
    }));
}
