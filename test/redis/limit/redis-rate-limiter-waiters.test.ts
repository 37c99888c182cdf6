import { randomUUID } from 'node:crypto';
import { getEventListeners, setMaxListeners } from 'node:events';
import { createClient, type RedisClientType } from 'redis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { InvalidOptionError, RateLimitedError, StoreUnavailableError } from '../../../src/index.js';
import { RedisRateLimiter, type RedisRateLimiterOptions, type RedisReply } from '../../../src/redis/index.js';
import { type RecordedCall, recordingConnection, scriptOf } from './recording-connection.js';

let client: RedisClientType;
const prefixes: string[] = [];
const newPrefix = () => {
  const prefix = `rl-wait-test-${randomUUID()}`;
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

/** One token per 10 minutes: nothing accrues while a test runs. */
const NO_REFILL = { rate: 1, intervalMs: 600_000 };

/** A limiter on its own prefix, talking to Redis through a recorded connection. */
function recordedLimiter(
  options: Omit<RedisRateLimiterOptions, 'client' | 'prefix'>,
  beforeSend?: (args: readonly string[]) => void,
) {
  const prefix = newPrefix();
  const recorder = recordingConnection(client, beforeSend);
  const limiter = new RedisRateLimiter({ ...options, prefix, client: recorder.connection });
  /** The tokens in `key`'s bucket, as Redis holds them. */
  const tokens = async (key: string) =>
    Number(await client.hGet(`{${prefix}}:rl:${Buffer.from(key).toString('base64url')}`, 'tokens'));
  return { limiter, recorder, tokens };
}

/** Tokens a token-bucket call took from Redis: the counts it sent, up to how many it served. */
function tokensTaken(call: RecordedCall): number {
  const served = Number((call.value as RedisReply[])[0]);
  return call.args
    .slice(6, 6 + served)
    .map(Number)
    .reduce((a, b) => a + b, 0);
}

const refused = (call: RecordedCall) => Number((call.value as RedisReply[] | undefined)?.[0]) === 0;

describe('RedisRateLimiter.take: bounded waiters (real Redis)', () => {
  it('rejects a take past maxWaiting at once with RATE_LIMITED naming the bound', async () => {
    const { limiter, recorder } = recordedLimiter({ ...NO_REFILL, burst: 1, maxWaiting: 3 });
    await limiter.take('a');
    await limiter.take('b');
    const controller = new AbortController();
    const waiting = [
      limiter.take('a', 1, controller.signal),
      limiter.take('a', 1, controller.signal),
      limiter.take('b', 1, controller.signal),
    ];
    await recorder.idle();
    expect(limiter.stats()).toMatchObject({ waiting: 3, waitsRefused: 0 });
    const calls = recorder.calls.length;
    const behind = limiter.take('a');
    await expect(behind).rejects.toBeInstanceOf(RateLimitedError);
    await expect(behind).rejects.toMatchObject({
      code: 'RATE_LIMITED',
      message: expect.stringContaining('maxWaiting: 3'),
    });
    expect(recorder.calls.length).toBe(calls); // behind a waiting take: refused without a round trip
    await expect(limiter.take('c')).resolves.toBeUndefined(); // a take that need not wait
    await expect(limiter.take('c')).rejects.toThrow(/maxWaiting: 3/); // one that would
    expect(limiter.stats()).toMatchObject({ waiting: 3, waitsRefused: 2 });
    controller.abort();
    await Promise.allSettled(waiting);
    expect(limiter.stats().waiting).toBe(0);
    const again = new AbortController();
    const room = limiter.take('c', 1, again.signal); // room again once they left
    await recorder.idle();
    expect(limiter.stats()).toMatchObject({ waiting: 1, waitsRefused: 2 });
    again.abort();
    await expect(room).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('defaults maxWaiting to 1000 and refuses impossible values', async () => {
    const { limiter, recorder } = recordedLimiter({ ...NO_REFILL, burst: 1 });
    await limiter.take('k');
    const controller = new AbortController();
    setMaxListeners(1000, controller.signal);
    const waiting = Array.from({ length: 1000 }, () => limiter.take('k', 1, controller.signal));
    await recorder.idle();
    expect(limiter.stats().waiting).toBe(1000);
    expect(recorder.scriptCalls('take')).toHaveLength(2); // the first take, then one for the head of 1000
    await expect(limiter.take('k')).rejects.toThrow(/maxWaiting: 1000/);
    controller.abort();
    await Promise.allSettled(waiting);
    expect(limiter.stats()).toMatchObject({ waiting: 0, waitsRefused: 1 });
    expect(() => new RedisRateLimiter({ client, rate: 1, maxWaiting: 0 })).toThrow(/maxWaiting/);
    expect(() => new RedisRateLimiter({ client, rate: 1, maxWaiting: 1.5 })).toThrow(InvalidOptionError);
  });
});

describe('RedisRateLimiter.take: first come first served in a process (real Redis)', () => {
  it('serves the waiting takes of one key in arrival order, whatever their size', async () => {
    const { limiter } = recordedLimiter({ rate: 20, intervalMs: 100, burst: 3 });
    await limiter.take('k', 3);
    const sizes = [2, 1, 3, 1, 1, 2, 3, 1, 2, 1];
    const order: number[] = [];
    const takes = sizes.map((n, i) => limiter.take('k', n).then(() => order.push(i)));
    expect(await limiter.tryTake('k')).toBe(false); // no jumping the queue, even for a smaller count
    await Promise.all(takes);
    expect(order).toEqual(sizes.map((_, i) => i));
    const total = sizes.reduce((a, b) => a + b, 0);
    // limited counts tryTake refusals only (the one above): waits are not refusals.
    expect(limiter.stats()).toMatchObject({ waiting: 0, allowed: 3 + total, limited: 1 });
  });

  it('serves concurrent takes the bucket covers in one call behind the first, as neither limited nor waiting', async () => {
    const { limiter, recorder } = recordedLimiter({ ...NO_REFILL, burst: 10 });
    const order: number[] = [];
    const takes = Array.from({ length: 10 }, (_, i) => limiter.take('k').then(() => order.push(i)));
    expect(limiter.stats().waiting).toBe(0);
    await Promise.all(takes);
    expect(order).toEqual(Array.from({ length: 10 }, (_, i) => i));
    expect(recorder.scriptCalls('take')).toHaveLength(2); // the first take's call, then one for the other 9
    expect(limiter.stats()).toMatchObject({ allowed: 10, limited: 0, waiting: 0 });
  });

  it('costs about one script call per token granted with 50 waiters on one key', async () => {
    const { limiter, recorder } = recordedLimiter({ rate: 20, intervalMs: 100, burst: 5 });
    const order: number[] = [];
    const takes = Array.from({ length: 50 }, (_, i) => limiter.take('k').then(() => order.push(i)));
    await Promise.all(takes);
    expect(order).toEqual(Array.from({ length: 50 }, (_, i) => i));
    const calls = recorder.scriptCalls('take');
    expect(calls.map(tokensTaken).reduce((a, b) => a + b, 0)).toBe(50);
    // One poll loop for the key: about one call per wake-up (≤ one per token), not one per waiter.
    expect(calls.length).toBeLessThanOrEqual(50 + 10);
    expect(limiter.stats()).toMatchObject({ allowed: 50, waiting: 0 });
  });

  it('counts no take in limited, however often it polls (the bus counts the tryTake before it)', async () => {
    // Another process empties the bucket just before each of this process's polls, 3 times.
    let steals = 0;
    const { limiter, recorder } = recordedLimiter({ rate: 20, intervalMs: 100, burst: 5 }, (args) => {
      if (steals === 0 || scriptOf(args) !== 'take') return;
      steals--;
      void client.sendCommand([
        'EVAL',
        "local t = redis.call('TIME') redis.call('HSET', KEYS[1], 'tokens', '0', 'ts', tostring(t[1] * 1000 + math.floor(t[2] / 1000)))",
        '1',
        args[3]!,
      ]);
    });
    await limiter.take('k', 5);
    steals = 3;
    const first = limiter.take('k', 5);
    const second = limiter.take('k', 1);
    await Promise.all([first, second]);
    expect(recorder.scriptCalls('take').filter(refused).length).toBeGreaterThanOrEqual(3);
    expect(limiter.stats()).toMatchObject({ allowed: 11, limited: 0, waiting: 0 });
    expect(limiter.stats().busiest).toEqual([{ key: 'k', allowed: 11, limited: 0, tokens: Number.NaN }]);
  });

  it('arms no timer past setTimeout’s maximum (a wait of 60 days does not poll every millisecond)', async () => {
    const setTimeoutSpy = vi.spyOn(globalThis, 'setTimeout');
    try {
      const { limiter, recorder } = recordedLimiter({ rate: 1, intervalMs: 60 * 86_400_000, burst: 1 });
      await limiter.take('k');
      const controller = new AbortController();
      const taking = limiter.take('k', 1, controller.signal);
      await recorder.idle();
      const delays = setTimeoutSpy.mock.calls.map((call) => Number(call[1]));
      expect(Math.max(...delays)).toBe(2_147_483_647);
      expect(recorder.scriptCalls('take')).toHaveLength(2); // asked once, then slept
      controller.abort();
      await expect(taking).rejects.toMatchObject({ name: 'AbortError' });
    } finally {
      setTimeoutSpy.mockRestore();
    }
  });
});

describe('RedisRateLimiter.take: abort (real Redis)', () => {
  it('leaves the queue at once, rejects with the reason, takes nothing, and the next waiter moves up', async () => {
    const { limiter, recorder } = recordedLimiter({ rate: 10, intervalMs: 1000, burst: 4 });
    await limiter.take('k', 4);
    const controller = new AbortController();
    const head = limiter.take('k', 4, controller.signal); // due in 400 ms
    const next = limiter.take('k', 1); // due 100 ms after the bucket emptied, once the head is gone
    await recorder.idle();
    expect(limiter.stats().waiting).toBe(2);
    const reason = new Error('client left');
    controller.abort(reason);
    expect(limiter.stats().waiting).toBe(1);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    await expect(head).rejects.toBe(reason);
    await next;
    const calls = recorder.scriptCalls('take');
    expect(calls.map(tokensTaken).reduce((a, b) => a + b, 0)).toBe(5); // 4, then next's 1: none for the head
    expect(recorder.scriptCalls('give-back')).toHaveLength(0);
    expect(limiter.stats()).toMatchObject({ waiting: 0, allowed: 5 });
  });

  it('gives back the tokens a call in flight took for an aborted take', async () => {
    const { limiter, recorder, tokens } = recordedLimiter({ ...NO_REFILL, burst: 3 });
    const controller = new AbortController();
    const taking = limiter.take('k', 2, controller.signal); // the bucket is full: this call will take 2
    const [call] = recorder.scriptCalls('take');
    let replied = false;
    void call!.reply.then(() => {
      replied = true;
    });
    const reason = new Error('client left');
    controller.abort(reason);
    await expect(taking).rejects.toBe(reason);
    expect(replied).toBe(false); // rejected at once, not when Redis answered
    await recorder.idle();
    expect(tokensTaken(call!)).toBe(2);
    expect(recorder.scriptCalls('give-back')).toHaveLength(1);
    expect(await tokens('k')).toBe(3);
    expect(limiter.stats()).toMatchObject({ allowed: 0, waiting: 0 });
    expect(await limiter.tryTake('k', 3)).toBe(true);
  });

  it('hands those tokens to the next waiters in order, and gives back what they cannot use', async () => {
    const { limiter, recorder, tokens } = recordedLimiter({ ...NO_REFILL, burst: 3 });
    const controller = new AbortController();
    const aborted = limiter.take('k', 3, controller.signal); // takes the full bucket
    const order: string[] = [];
    const later = new AbortController();
    const first = limiter.take('k', 2).then(() => order.push('first (2)'));
    const second = limiter.take('k', 2, later.signal).then(() => order.push('second (2)'));
    const third = limiter.take('k', 1, later.signal).then(() => order.push('third (1)'));
    controller.abort();
    await expect(aborted).rejects.toMatchObject({ name: 'AbortError' });
    await first;
    await recorder.idle();
    // first got 2 of the 3; second needs 2 and third may not pass it, so 1 went back.
    expect(order).toEqual(['first (2)']);
    expect(recorder.scriptCalls('take')).toHaveLength(1);
    expect(recorder.scriptCalls('give-back')).toHaveLength(1);
    expect(await tokens('k')).toBeCloseTo(1, 3); // plus what accrued since (a token per 10 minutes)
    expect(limiter.stats()).toMatchObject({ allowed: 2, waiting: 2 });
    later.abort();
    await Promise.allSettled([second, third]);
    expect(limiter.stats().waiting).toBe(0);
  });

  it('rejects every take waiting on a key when its poll fails, leaving none hanging', async () => {
    let failNext = false;
    const { limiter, recorder } = recordedLimiter({ ...NO_REFILL, burst: 1 }, (args) => {
      if (!failNext || scriptOf(args) !== 'take') return;
      failNext = false;
      throw new Error('connection reset');
    });
    await limiter.take('k');
    const controller = new AbortController();
    const head = limiter.take('k', 1, controller.signal);
    const behind = [limiter.take('k'), limiter.take('k')];
    await recorder.idle(); // the head was refused: all three wait
    expect(limiter.stats().waiting).toBe(3);
    failNext = true;
    controller.abort(); // the loop polls for the next head at once, and that call fails
    await expect(head).rejects.toMatchObject({ name: 'AbortError' });
    for (const take of behind) await expect(take).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(limiter.stats().waiting).toBe(0);
  });
});
