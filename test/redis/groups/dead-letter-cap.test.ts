import { describe, expect, it } from 'vitest';
import { CONSUMER_GROUP_LIMITS } from '../../../src/groups/consumer-group-options.js';
import { capDeliveryError, deliveryError } from '../../../src/groups/dead-letters.js';
import { EventBus } from '../../../src/index.js';
import { RedisGroupKeys } from '../../../src/redis/groups/redis-group-keys.js';
import { RedisEventStore } from '../../../src/redis/index.js';
import { RedisKeys } from '../../../src/redis/store/redis-keys.js';
import { type connectNodeRedis, redisPerTest, waitFor } from '../store/redis-fixtures.js';

/**
 * Security review, finding 16: a dead letter kept its error message whole, and a group keeps
 * 10,000 dead letters: a handler that throws with the event's data in its message could make
 * that gigabytes. Messages are capped at 1,024 characters (names at 256), ending in a marker,
 * on the memory backend and on the Redis one alike.
 */
const tests = redisPerTest('dead-cap');

describe('capDeliveryError', () => {
  it('keeps a message up to 1,024 characters as is', () => {
    const message = 'm'.repeat(1024);
    expect(deliveryError(new Error(message)).message).toBe(message);
    expect(CONSUMER_GROUP_LIMITS.maxErrorMessageLength).toBe(1024);
  });

  it('cuts a longer one to 1,024 characters, ending in a marker with the full length', () => {
    const { message } = deliveryError(new Error('m'.repeat(1_000_000)));
    expect(message).toHaveLength(1024);
    expect(message).toMatch(/^m+… \[truncated, 1000000 characters\]$/);
  });

  it('never cuts a surrogate pair in two', () => {
    for (let shift = 0; shift < 4; shift++) {
      const { message } = capDeliveryError({
        name: 'Error',
        message: `${'a'.repeat(shift)}${'😀'.repeat(2000)}`,
      });
      expect(message.length).toBeLessThanOrEqual(1024);
      expect(() => encodeURIComponent(message)).not.toThrow(); // throws on a lone surrogate
    }
  });

  it('caps the name at 256 characters, and what a non-Error throw becomes', () => {
    const error = new Error('x');
    error.name = 'N'.repeat(10_000);
    expect(deliveryError(error).name).toHaveLength(256);
    expect(deliveryError('s'.repeat(5000)).message).toHaveLength(1024);
  });
});

/** A bus on the memory store or on Redis, with a group whose handler always throws `message`. */
async function failingGroup(backend: 'memory' | 'redis', message: string) {
  let bus: EventBus;
  let redis: { client: Awaited<ReturnType<typeof connectNodeRedis>>; prefix: string } | undefined;
  if (backend === 'redis') {
    const { client, prefix } = await tests.connect();
    redis = { client, prefix };
    bus = new EventBus({
      store: new RedisEventStore({ client, prefix, groupPollMs: 50 }),
      onError: () => {},
    });
    tests.defer(() => bus.close());
  } else {
    bus = new EventBus({ onError: () => {} });
    tests.defer(() => bus.close());
  }
  await bus.ready();
  const consumer = await bus.consume(
    'job.*',
    () => {
      throw new Error(message);
    },
    { group: 'failing', maxDeliveries: 2, retryDelayMs: 0 },
  );
  await bus.publish({ type: 'job.run', data: 1 });
  await waitFor(() => consumer.stats().deadLettered === 1);
  return { bus, redis };
}

describe.each(['memory', 'redis'] as const)('dead letters on the %s backend', (backend) => {
  it('store a 1 MB error message cut to 1,024 characters', async () => {
    const { bus, redis } = await failingGroup(backend, 'e'.repeat(1_000_000));
    const [letter] = await bus.deadLetters('failing').list();
    expect(letter!.lastError.message).toHaveLength(1024);
    expect(letter!.lastError.message).toMatch(/… \[truncated, 1000000 characters\]$/);
    expect(letter!.deliveries).toBe(2);
    if (redis !== undefined) {
      // What Redis holds is the cut message, not the megabyte.
      const dead = new RedisGroupKeys(new RedisKeys(redis.prefix), 'failing').dead;
      const [entry] = (await redis.client.sendCommand(['XRANGE', dead, '-', '+'])) as [string, string[]][];
      const fields = entry![1];
      expect(fields[fields.indexOf('em') + 1]).toHaveLength(1024);
    }
  });

  it('keep a short message whole', async () => {
    const { bus } = await failingGroup(backend, 'boom');
    const [letter] = await bus.deadLetters('failing').list();
    expect(letter!.lastError).toEqual({ name: 'Error', message: 'boom' });
  });
});
