// Bad input on `busline/redis` (issue #14, item 7), against the real Redis: see public-surface.test.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventBus } from '../../src/index.js';
import { RedisEventStore, RedisRateLimiter } from '../../src/redis/index.js';
import {
  connectNodeRedis,
  deletePrefix,
  type NodeRedisClient,
  uniquePrefix,
} from '../redis/store/redis-fixtures.js';
import { fuzzInputs } from './surface/input-fuzz.js';
import { type RedisFixture, redisSurface } from './surface/redis-surface.js';

let client: NodeRedisClient;
const prefixes = new Set<string>();
const fixture = (): RedisFixture => ({
  client,
  prefix: uniquePrefix('surface-fuzz'),
  used: (prefix) => prefixes.add(prefix),
});

beforeAll(async () => {
  client = await connectNodeRedis();
});

afterAll(async () => {
  for (const prefix of prefixes) await deletePrefix(client, prefix).catch(() => {});
  client.destroy();
});

describe('any input at busline/redis', () => {
  for (const [name, covered] of Object.entries(redisSurface(fixture))) {
    if (!('fuzz' in covered)) continue;
    for (const [member, fuzz] of Object.entries(covered.fuzz)) it(`${name} › ${member}`, fuzz);
  }
  it('EventBus on a RedisEventStore › ready, deadLetters, consume', () => fuzzBusOnRedis(fixture()));
});

/** EventBus methods whose behaviour differs on a shared store (a live feed, groups in Redis). */
async function fuzzBusOnRedis(redis: RedisFixture): Promise<void> {
  const prefix = `${redis.prefix}:bus`;
  redis.used(prefix);
  const store = new RedisEventStore({ client: redis.client as never, prefix, blockMs: 50 });
  const bus = new EventBus({ store, onError: () => {} });
  try {
    await bus.ready();
    await fuzzInputs({ inputs: ['options'], numRuns: 50, call: (v) => bus.ready(v.options as never) });
    await fuzzInputs({ inputs: ['signal', 'timeoutMs'], numRuns: 50, call: (v) => bus.ready(v) });
    await fuzzInputs({
      inputs: ['group', 'ids'],
      valid: { group: 'g' },
      numRuns: 50,
      call: async (v) => {
        const letters = bus.deadLetters(v.group as never);
        await letters.list();
        return letters.redrive(v.ids as never);
      },
    });
    await fuzzInputs({
      inputs: ['group', 'from', 'concurrency', 'ackTimeoutMs'],
      valid: { group: 'g' },
      numRuns: 50,
      call: async (v) => (await bus.consume('a.*', () => {}, v as never)).close(),
    });
  } finally {
    await bus.close({ timeoutMs: 500 });
    await store.close();
  }
}

/** A BuslineError of `code` whose message names `name`. */
const named = (name: string, code = 'INVALID_OPTION') =>
  expect.objectContaining({ code, message: expect.stringContaining(name) });

// What the property found; before the fix each failed with a TypeError from deep inside.
describe('counterexamples on busline/redis', () => {
  it('new RedisRateLimiter(null) names the options', () => {
    expect(() => new RedisRateLimiter(null as never)).toThrow(named('rate limiter options'));
  });

  it('RedisRateLimiter refuses a client that is not one when made (it failed every call later)', () => {
    expect(() => new RedisRateLimiter({ client: {} as never, rate: 1 })).toThrow(named('`client`'));
  });

  it("RedisRateLimiter's tryTake(undefined) and take(key, 1, 0) name the argument", async () => {
    const { prefix, used } = fixture();
    used(prefix);
    const limiter = new RedisRateLimiter({ client, prefix, rate: 10 });
    await expect(limiter.tryTake(undefined as never)).rejects.toEqual(named('`key`'));
    await expect(limiter.take('k', 1, 0 as never)).rejects.toEqual(named('`signal`'));
  });

  it('tail(0n, signal) and tail("now", undefined) name the argument', async () => {
    const { prefix, used } = fixture();
    used(prefix);
    const store = new RedisEventStore({ client, prefix });
    const first = (after: unknown, signal: unknown) =>
      store
        .tail(after as never, signal as never)
        [Symbol.asyncIterator]()
        .next();
    await expect(first(0n, new AbortController().signal)).rejects.toEqual(named('`after`'));
    await expect(first('now', undefined)).rejects.toEqual(named('`signal`'));
    await store.close();
  });

  it('bus.ready(null) on a shared store names the options', async () => {
    const { prefix, used } = fixture();
    used(prefix);
    const store = new RedisEventStore({ client, prefix });
    const bus = new EventBus({ store, onError: () => {} });
    await expect(bus.ready(null as never)).rejects.toEqual(named('ready options'));
    await bus.close();
    await store.close();
  });
});
