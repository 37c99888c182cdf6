import { expect, it } from 'vitest';
import { EventBus } from '../../../src/index.js';
import { RedisEventStore } from '../../../src/redis/index.js';
import { type NodeRedisClient, redisPerTest, waitFor } from '../store/redis-fixtures.js';

/** Odd input through Redis groups: names that are not key-safe, many patterns, large events. */
const redis = redisPerTest('group-edges');

async function redisBus(
  storeOptions: { maxEvents?: number; maxGroupPatterns?: number } = {},
): Promise<{ bus: EventBus; client: NodeRedisClient; errors: unknown[]; prefix: string }> {
  const { client, prefix } = await redis.connect();
  const errors: unknown[] = [];
  const bus = new EventBus({
    store: new RedisEventStore({ client, prefix, groupPollMs: 50, ...storeOptions }),
    onError: (error) => errors.push(error),
  });
  redis.defer(() => bus.close());
  await bus.ready();
  return { bus, client, errors, prefix };
}

it('keeps groups with odd names apart: __proto__, braces and colons, emoji, 256 characters', async () => {
  const { bus, errors } = await redisBus();
  const names = ['__proto__', 'constructor', 'a:b{c}d', '🚀 launch', 'x'.repeat(256), 'g'];
  const seen = new Map<string, unknown[]>();
  for (const group of names) {
    seen.set(group, []);
    await bus.consume('task.*', (e) => void seen.get(group)!.push(e.data), { group });
  }
  await bus.publishBatch([1, 2, 3].map((n) => ({ type: 'task.done', data: n })));
  await waitFor(() => [...seen.values()].every((list) => list.length === 3));
  for (const list of seen.values()) expect(list).toEqual([1, 2, 3]);
  expect(errors).toEqual([]);
});

// This used to consume 10,000 patterns. A group's patterns are capped now (security review,
// finding 4: every claim matched each new event type against all of them inside Redis, and
// Redis serves no one meanwhile): 256 through the bus, and `maxGroupPatterns` on the store.
it('filters by its patterns inside Redis, up to the cap of 256 per group', async () => {
  const { bus, errors } = await redisBus();
  const patterns = Array.from({ length: 256 }, (_, i) => `team${i}.*`);
  const seen: string[] = [];
  await bus.consume(patterns, (e) => void seen.push(e.type), { group: 'many' });
  await bus.publishBatch(
    ['team255.created', 'team256.created', 'team0.x', 'other'].map((type) => ({ type, data: 0 })),
  );
  await waitFor(() => seen.length === 2);
  expect(seen).toEqual(['team255.created', 'team0.x']);
  expect(errors).toEqual([]);
});

it('refuses a group with more patterns than the cap, with an INVALID_PATTERN error naming it', async () => {
  const { bus } = await redisBus();
  const patterns = (n: number) => Array.from({ length: n }, (_, i) => `team${i}.*`);
  // The bus's bound per consume (PATTERN_LIMITS.maxPatternsPerSubscription).
  await expect(bus.consume(patterns(257), () => {}, { group: 'too-many' })).rejects.toMatchObject({
    code: 'INVALID_PATTERN',
    message: expect.stringContaining('at most 256 patterns'),
  });
  // A lower bound of the store's own: nothing is created in Redis for the refused group.
  const { bus: capped, client, prefix } = await redisBus({ maxGroupPatterns: 4 });
  await capped.consume(patterns(4), () => {}, { group: 'four' });
  await expect(capped.consume(patterns(5), () => {}, { group: 'five' })).rejects.toMatchObject({
    code: 'INVALID_PATTERN',
    message: expect.stringContaining(
      'at most 4 patterns in consumer group "five" (RedisEventStore maxGroupPatterns), got 5',
    ),
  });
  const groupKeys = await client.keys(`{${prefix}}:g:*`);
  expect(groupKeys.some((key) => key.includes(Buffer.from('four').toString('base64url')))).toBe(true);
  expect(groupKeys.some((key) => key.includes(Buffer.from('five').toString('base64url')))).toBe(false);
});

it('retries and dead-letters a large event unchanged (quotes, newlines, unicode, __proto__ keys)', async () => {
  const { bus } = await redisBus();
  const data = {
    text: `"quoted"\nline\u2028sep ${'é'.repeat(20_000)}`,
    ['__proto__']: { polluted: true },
    nested: Array.from({ length: 200 }, (_, i) => ({ i, s: `v${i}` })),
  };
  const deliveries: unknown[] = [];
  const consumer = await bus.consume(
    'big.*',
    (e) => {
      deliveries.push(e.data);
      throw new Error('always fails');
    },
    { group: 'big', maxDeliveries: 2, retryDelayMs: 10 },
  );
  await bus.publish({ type: 'big.one', data });
  await waitFor(() => consumer.stats().deadLettered === 1);
  expect(deliveries).toHaveLength(2);
  for (const delivered of deliveries) expect(delivered).toEqual(JSON.parse(JSON.stringify(data)));
  const [letter] = await bus.deadLetters('big').list();
  expect(letter!.event.data).toEqual(JSON.parse(JSON.stringify(data)));
  expect(({} as { polluted?: boolean }).polluted).toBeUndefined();
});

it('reports the events retention removed before the group read them, then goes on after them', async () => {
  const { bus, errors } = await redisBus({ maxEvents: 5 });
  let release!: () => void;
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  const seen: unknown[] = [];
  await bus.consume(
    'job.*',
    async (e) => {
      seen.push(e.data);
      if (e.data === 0) await held; // the group has read event 0 and nothing after it
    },
    { group: 'slow' },
  );
  await bus.publish({ type: 'job.run', data: 0 });
  await waitFor(() => seen.length === 1);
  // Ten more into a log that keeps five: events 1–5 go before the group reads them.
  await bus.publishBatch(Array.from({ length: 10 }, (_, i) => ({ type: 'job.run', data: i + 1 })));
  release();
  await waitFor(() => seen.length === 6);
  expect(seen).toEqual([0, 6, 7, 8, 9, 10]);
  // The group says so, once (and so does the bus's live feed, which fell behind the same trim).
  const fromGroup = errors.filter((e) => (e as Error).message.includes('group "slow"'));
  expect(fromGroup).toEqual([expect.objectContaining({ code: 'HISTORY_TRUNCATED' })]);
  for (const error of errors) expect(error).toMatchObject({ code: 'HISTORY_TRUNCATED' });
});
