import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { createClient, type RedisClientType } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventBus } from '../../../src/index.js';
import { RedisRateLimiter } from '../../../src/redis/index.js';

const run = promisify(execFile);
const child = resolve(import.meta.dirname, 'take-child.ts');
let client: RedisClientType;
const prefixes: string[] = [];
const newPrefix = () => {
  const prefix = `rl-test-${randomUUID()}`;
  prefixes.push(prefix);
  return prefix;
};

beforeAll(async () => {
  client = (await createClient({ url: 'redis://127.0.0.1:6379' }).connect()) as unknown as RedisClientType;
});
afterAll(async () => {
  for (const prefix of prefixes) {
    const keys = await client.keys(`{${prefix}}:*`);
    if (keys.length > 0) await client.del(keys);
  }
  await client.quit();
});

describe('RedisRateLimiter (real Redis)', () => {
  it('gives a burst, then refuses until tokens accrue', async () => {
    const limiter = new RedisRateLimiter({
      client,
      prefix: newPrefix(),
      rate: 1,
      intervalMs: 600_000,
      burst: 3,
    });
    const results = [];
    for (let i = 0; i < 5; i++) results.push(await limiter.tryTake('k'));
    expect(results).toEqual([true, true, true, false, false]);
    expect(await limiter.tryTake('other')).toBe(true);
    expect(limiter.stats()).toMatchObject({ allowed: 4, limited: 2 });
  });

  it('lets take() wait for the next token', async () => {
    const limiter = new RedisRateLimiter({
      client,
      prefix: newPrefix(),
      rate: 50,
      intervalMs: 1000,
      burst: 1,
    });
    await limiter.take('k');
    await limiter.take('k'); // a token accrues every 20 ms
    expect(limiter.stats().allowed).toBe(2);
    await expect(limiter.take('k', 1, AbortSignal.abort())).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('lets an idle bucket expire from Redis once it would be full again', async () => {
    const prefix = newPrefix();
    const limiter = new RedisRateLimiter({ client, prefix, rate: 10, intervalMs: 1000, burst: 10 });
    await limiter.tryTake('idle');
    const [key] = await client.keys(`{${prefix}}:rl:*`);
    const ttl = await client.pTTL(key!);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(100 + 1000); // one token to refill at 10/s, plus a second of grace
  });

  it('shares one budget between 3 processes', async () => {
    const prefix = newPrefix();
    const outputs = await Promise.all(
      [1, 2, 3].map(() =>
        run(process.execPath, ['--import', 'tsx', child, prefix, '40'], { encoding: 'utf8' }),
      ),
    );
    const allowed = outputs.map((o) => (JSON.parse(o.stdout) as { allowed: number }).allowed);
    // 120 attempts against a burst of 50 that refills one token per 10 minutes: exactly 50 in all.
    expect(allowed.reduce((a, b) => a + b, 0)).toBe(50);
    expect(allowed.every((n) => n < 50)).toBe(true); // the processes really competed
  });

  it('plugs into the bus as rateLimit', async () => {
    const limiter = new RedisRateLimiter({
      client,
      prefix: newPrefix(),
      rate: 1,
      intervalMs: 600_000,
      burst: 2,
    });
    const bus = new EventBus({ store: null, rateLimit: limiter });
    const statuses = [];
    for (let i = 0; i < 3; i++)
      statuses.push((await bus.publish({ type: 'a', stream: 'op', data: i })).status);
    expect(statuses).toEqual(['delivered', 'delivered', 'rate_limited']);
    await bus.close();
  });
});
