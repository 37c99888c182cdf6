import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { EventBus } from '../../../src/index.js';
import { RedisEventStore } from '../../../src/redis/index.js';
import { OwnRedis } from '../store/own-redis.js';
import { connectNodeRedis, type NodeRedisClient, waitFor } from '../store/redis-fixtures.js';

/**
 * A consumer group across a Redis kill -9 and restart (the server persists to its AOF): the
 * consumer rides out the outage on its own (claims and acks fail, are reported and retried),
 * and afterwards every event whose publish resolved is handled; the ones in flight when Redis
 * died come back through the PEL (ack timeout, then XAUTOCLAIM), so nothing is lost.
 */
let redis: OwnRedis;
const clients: NodeRedisClient[] = [];

beforeAll(async () => {
  redis = await OwnRedis.onFreePort();
  await redis.start();
});
afterAll(async () => {
  for (const client of clients) client.destroy();
  await redis.remove();
});

async function busOn(errors: unknown[]): Promise<EventBus> {
  const client = await connectNodeRedis(redis.url);
  clients.push(client);
  const store = new RedisEventStore({ client, prefix: 'fault', commandTimeoutMs: 300, groupPollMs: 50 });
  const bus = new EventBus({ store, onError: (error) => errors.push(error) });
  await bus.ready();
  return bus;
}

it('handles every acknowledged publish after Redis is killed and restarted mid-stream', async () => {
  const consumerErrors: unknown[] = [];
  const consumerBus = await busOn(consumerErrors);
  const publisher = await busOn([]);
  const handled = new Set<number>();
  const consumer = await consumerBus.consume(
    'job.*',
    async (event) => {
      await new Promise((resolve) => setTimeout(resolve, 2));
      handled.add(event.data as number);
    },
    { group: 'workers', concurrency: 4, ackTimeoutMs: 500, retryDelayMs: 50, maxDeliveries: 100 },
  );

  const resolved: number[] = [];
  const failures: unknown[] = [];
  let n = 0;
  const publishSome = async (count: number) => {
    for (let i = 0; i < count; i++, n++) {
      try {
        await publisher.publish({ type: 'job.run', stream: `s${n % 3}`, data: n });
        resolved.push(n);
      } catch (error) {
        failures.push(error);
      }
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  };

  await publishSome(100);
  await redis.kill();
  await publishSome(10); // during the outage: each rejects within commandTimeoutMs
  await redis.start();
  await publishSome(100);

  expect(failures.length).toBeGreaterThan(0);
  for (const failure of failures) expect(failure).toMatchObject({ code: 'STORE_UNAVAILABLE' });
  expect(resolved.length).toBeGreaterThanOrEqual(190);
  await waitFor(() => resolved.every((m) => handled.has(m)), 20_000);
  await waitFor(() => consumer.stats().pending === 0 && consumer.stats().inFlight === 0, 20_000);
  // The outage was reported, never thrown at anyone; the consumer kept going by itself.
  expect(consumerErrors.length).toBeGreaterThan(0);
  for (const error of consumerErrors) {
    expect(['STORE_UNAVAILABLE', 'TIMEOUT', 'HISTORY_TRUNCATED']).toContain(
      (error as { code?: string }).code,
    );
  }
  await consumerBus.close();
  await publisher.close();
}, 60_000);

it('rejects consume() with STORE_UNAVAILABLE while Redis is down, instead of hanging', async () => {
  const client = await connectNodeRedis(redis.url);
  clients.push(client);
  const options = { client, prefix: 'down', commandTimeoutMs: 300 };
  const quiet = { feedTimeoutMs: 300, onError: () => {} };
  const positioned = new EventBus({ store: new RedisEventStore(options), ...quiet });
  await positioned.ready();
  await redis.kill();
  try {
    // Its feed is positioned: the join script times out.
    await expect(positioned.consume('job.*', () => {}, { group: 'g' })).rejects.toMatchObject({
      code: 'STORE_UNAVAILABLE',
    });
    // This one's feed cannot position: consume() gives up after feedTimeoutMs.
    const unpositioned = new EventBus({ store: new RedisEventStore(options), ...quiet });
    await expect(unpositioned.consume('job.*', () => {}, { group: 'g' })).rejects.toMatchObject({
      code: 'STORE_UNAVAILABLE',
    });
    await unpositioned.close();
  } finally {
    await redis.start();
  }
  // Back up, once the client has reconnected (its back-off reaches 500 ms, past the 300 ms
  // command timeout this test sets): the same bus joins.
  await vi.waitFor(() => client.ping(), { timeout: 10_000, interval: 50 });
  const consumer = await positioned.consume('job.*', () => {}, { group: 'g' });
  await consumer.close();
  await positioned.close();
}, 30_000);
