import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StoreUnavailableError } from '../../../src/errors.js';
import { ioredisClient, RedisEventStore } from '../../../src/redis/index.js';
import { OwnRedis } from './own-redis.js';
import { connectNodeRedis, testEvent as event, type NodeRedisClient, waitFor } from './redis-fixtures.js';

/**
 * Whether a failed append may have been applied (defect 12): a script that was sent and timed
 * out may still run, and the live feed then delivers its events; one refused or withdrawn
 * before it was written never ran. On a Redis of the test's own (DEBUG SLEEP blocks the whole
 * server, and the shared one has DEBUG disabled).
 */
let redis: OwnRedis;
const clients: { destroy(): void }[] = [];

beforeAll(async () => {
  redis = await OwnRedis.onFreePort(['--enable-debug-command', 'yes']);
  await redis.start();
}, 20_000);

afterAll(async () => {
  for (const client of clients) client.destroy();
  await redis?.remove();
});

async function connect(options: { disableOfflineQueue?: boolean } = {}): Promise<NodeRedisClient> {
  const client = await connectNodeRedis(redis.url, options);
  clients.push(client);
  return client;
}

async function rejection(promise: Promise<unknown>): Promise<StoreUnavailableError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(StoreUnavailableError);
  return error as StoreUnavailableError;
}

describe('RedisEventStore.append failures say whether the append may have been applied', () => {
  it('a timed-out append may have applied: it did once Redis woke, and appending it again is a duplicate with the original cursor', async () => {
    const client = await connect();
    const store = new RedisEventStore({ client, prefix: 'slow', commandTimeoutMs: 50 });
    await store.append([event()]); // loads the script: the slow EVALSHA below is not a NOSCRIPT
    const late = event();
    // Same connection, same tick: Redis sleeps first, then runs the append it already received.
    const sleeping = client.sendCommand(['DEBUG', 'SLEEP', '0.3']);
    const error = await rejection(store.append([late]));
    expect(error.code).toBe('STORE_UNAVAILABLE');
    expect(error.mayHaveApplied).toBe(true);
    expect(error.message).toMatch(/may still have been applied/);
    expect(error.message).toMatch(/same event id is safe: a duplicate, answered with the original cursor/);
    expect(error.cause).toBeInstanceOf(StoreUnavailableError);

    await sleeping;
    const stored = (await store.read({})).events.find((e) => e.id === late.id);
    expect(stored).toMatchObject({ id: late.id, type: late.type, data: late.data });
    expect(await store.append([late])).toEqual([{ id: late.id, cursor: stored!.cursor, duplicate: true }]);
    await store.close();
  });

  it('an append refused by a closed client was not applied', async () => {
    const client = await connect();
    const store = new RedisEventStore({ client, prefix: 'closed', commandTimeoutMs: 5000 });
    client.destroy();
    const error = await rejection(store.append([event()]));
    expect(error.mayHaveApplied).toBe(false);
    expect(error.message).toMatch(/was not applied/);
    await store.close();
  });

  it('an append on a closed ioredis client was not applied', async () => {
    const client = new Redis(redis.url, { lazyConnect: true });
    client.on('error', () => {});
    await client.connect();
    const store = new RedisEventStore({
      client: ioredisClient(client),
      prefix: 'io',
      commandTimeoutMs: 5000,
    });
    client.disconnect();
    await waitFor(() => client.status === 'end');
    const error = await rejection(store.append([event()]));
    expect(error.mayHaveApplied).toBe(false);
    await store.close();
  });

  it('other failures say nothing about it (an error reply from Redis)', async () => {
    const client = await connect();
    const store = new RedisEventStore({ client, prefix: 'wrongtype', commandTimeoutMs: 5000 });
    await client.set('{wrongtype}:ids', 'not a hash'); // the id index is a hash: HGET fails
    const error = await rejection(store.append([event()]));
    expect(error.mayHaveApplied).toBeUndefined();
    await store.close();
  });

  it('while Redis is down, an append withdrawn from the offline queue at the deadline, or refused by a client without one, was not applied', async () => {
    const queueing = await connect();
    const impatient = await connect({ disableOfflineQueue: true });
    const options = { prefix: 'down', commandTimeoutMs: 100 };
    const stores = [
      new RedisEventStore({ client: queueing, ...options }),
      new RedisEventStore({ client: impatient, ...options }),
    ];
    await redis.kill();
    await waitFor(() => !queueing.isReady && !impatient.isReady);
    const unsent = [event(), event()];
    // node-redis queues the first while it reconnects, and drops it from the queue at the deadline.
    const withdrawn = await rejection(stores[0]!.append([unsent[0]!]));
    expect(withdrawn.mayHaveApplied).toBe(false);
    expect(withdrawn.message).toMatch(/was not applied: .*withdrawn unsent/);
    const refused = await rejection(stores[1]!.append([unsent[1]!]));
    expect(refused.mayHaveApplied).toBe(false);

    await redis.start();
    await waitFor(() => queueing.isReady);
    for (const e of unsent) expect(await stores[0]!.has(e.id)).toBe(false);
    for (const store of stores) await store.close();
  });
});
