import { getEventListeners } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { InvalidOptionError, RateLimitedError } from '../../src/index.js';
import { RateLimiter } from '../../src/limit/rate-limiter.js';
import { createFakeClock, type FakeClock } from '../../src/testing/index.js';

describe('RateLimiter.tryTake', () => {
  it('allows a burst, then refills continuously at rate per interval', () => {
    const clock = createFakeClock();
    const limiter = new RateLimiter({ rate: 10, intervalMs: 1000, burst: 5, clock: clock.now });
    const takes = () => Array.from({ length: 6 }, () => limiter.tryTake('op')).filter(Boolean).length;
    expect(takes()).toBe(5);
    clock.advance(100); // 10 per second = 1 per 100 ms
    expect(limiter.tryTake('op')).toBe(true);
    expect(limiter.tryTake('op')).toBe(false);
    clock.advance(250);
    expect(limiter.tryTake('op', 2)).toBe(true);
    expect(limiter.tryTake('op')).toBe(false);
    clock.advance(60_000);
    expect(takes()).toBe(5); // capped at burst after a long pause
  });

  it('keeps one budget per key', () => {
    const clock = createFakeClock();
    const limiter = new RateLimiter({ rate: 1, burst: 1, clock: clock.now });
    expect(limiter.tryTake('a')).toBe(true);
    expect(limiter.tryTake('a')).toBe(false);
    expect(limiter.tryTake('b')).toBe(true);
  });

  it('meets 1,000 events/s per operation over a simulated minute (seed 000)', () => {
    const clock = createFakeClock();
    const limiter = new RateLimiter({ rate: 1000, intervalMs: 1000, clock: clock.now });
    let allowed = 0;
    for (let ms = 0; ms < 60_000; ms++) {
      for (let i = 0; i < 3; i++) if (limiter.tryTake('op-1')) allowed++; // offered: 3,000/s
      clock.advance(1);
    }
    expect(allowed).toBeGreaterThanOrEqual(60_000);
    expect(allowed).toBeLessThanOrEqual(60_000 + 1000); // the initial burst
  });

  it('does not grow without bound under a flood of distinct keys', () => {
    const clock = createFakeClock();
    const limiter = new RateLimiter({ rate: 100, maxKeys: 1000, clock: clock.now });
    for (let i = 0; i < 200_000; i++) {
      limiter.tryTake(`attacker-${i}`);
      if (i % 1000 === 0) clock.advance(5);
    }
    expect(limiter.stats().keys).toBeLessThanOrEqual(1000);
  });

  it('never hands an exhausted key its budget back, however many new keys flood in (security review #5)', () => {
    const clock = createFakeClock();
    const limiter = new RateLimiter({
      rate: 10,
      intervalMs: 1000,
      burst: 10,
      maxKeys: 100,
      clock: clock.now,
    });
    for (let i = 0; i < 10; i++) expect(limiter.tryTake('victim')).toBe(true);
    expect(limiter.tryTake('victim')).toBe(false);
    // 10,000 one-off keys, each taking a token (so none of their buckets is full).
    let admitted = 0;
    for (let i = 0; i < 10_000; i++) if (limiter.tryTake(`junk-${i}`)) admitted++;
    expect(admitted).toBe(99); // the room left; the rest are refused, not swapped in
    expect(limiter.stats()).toMatchObject({ keys: 100, keysRefused: 10_000 - 99 });
    expect(limiter.tryTake('victim')).toBe(false); // still exhausted
    // Once buckets can have refilled, they are swept and new keys get in again.
    clock.advance(1000);
    expect(limiter.tryTake('newcomer')).toBe(true);
  });

  it("take() rejects with RATE_LIMITED when every key's bucket is in use", async () => {
    const clock = createFakeClock();
    const limiter = new RateLimiter({ rate: 1, burst: 1, maxKeys: 2, clock: clock.now, onLimit: 'delay' });
    limiter.tryTake('a');
    limiter.tryTake('b');
    await expect(limiter.take('c')).rejects.toThrow(/maxKeys: 2/);
  });

  it('reports the busiest keys', () => {
    const limiter = new RateLimiter({ rate: 2, burst: 2 });
    for (let i = 0; i < 5; i++) limiter.tryTake('hot');
    limiter.tryTake('cold');
    const stats = limiter.stats();
    expect(stats.busiest[0]).toMatchObject({ key: 'hot', allowed: 2, limited: 3 });
    expect(stats).toMatchObject({ keys: 2, allowed: 3, limited: 3 });
  });

  it('rejects impossible options and counts', () => {
    expect(() => new RateLimiter({ rate: 0 })).toThrow(InvalidOptionError);
    expect(() => new RateLimiter({ rate: 10, burst: 0 })).toThrow(/burst/);
    expect(() => new RateLimiter({ rate: 10, onLimit: 'explode' as never })).toThrow(/onLimit/);
    expect(() => new RateLimiter({ rate: 10, burst: 5 }).tryTake('k', 6)).toThrow(/burst/);
  });
});

describe('RateLimiter.take', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('waits until tokens accrue, serving waiters in arrival order', async () => {
    const limiter = new RateLimiter({ rate: 10, intervalMs: 1000, burst: 1 });
    const order: string[] = [];
    await limiter.take('k');
    const first = limiter.take('k').then(() => order.push('first'));
    const second = limiter.take('k').then(() => order.push('second'));
    expect(limiter.tryTake('k')).toBe(false); // no jumping the queue
    await vi.advanceTimersByTimeAsync(99);
    expect(order).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(order).toEqual(['first']);
    await vi.advanceTimersByTimeAsync(100);
    await Promise.all([first, second]);
    expect(order).toEqual(['first', 'second']);
  });

  it('honours abort: rejects with the reason, takes nothing, and lets the next waiter go', async () => {
    const limiter = new RateLimiter({ rate: 10, intervalMs: 1000, burst: 1 });
    await limiter.take('k');
    const controller = new AbortController();
    const aborted = limiter.take('k', 1, controller.signal);
    const next = limiter.take('k');
    controller.abort(new Error('client left'));
    await expect(aborted).rejects.toThrow('client left');
    await vi.advanceTimersByTimeAsync(100);
    await expect(next).resolves.toBeUndefined();
    await expect(limiter.take('k', 1, AbortSignal.abort())).rejects.toMatchObject({ name: 'AbortError' });
  });
});

describe('RateLimiter.take on the injected clock', () => {
  // Only the timers are faked: the limiter must read time from its own clock, not Date.
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  /** Moves the limiter's clock and the timers together, one millisecond at a time. */
  async function advance(clock: FakeClock, ms: number): Promise<void> {
    for (let i = 0; i < ms; i++) {
      clock.advance(1);
      await vi.advanceTimersByTimeAsync(1);
    }
  }

  it('serves the waiting takes of one key in arrival order, whatever their size', async () => {
    const clock = createFakeClock();
    const limiter = new RateLimiter({ rate: 10, intervalMs: 1000, burst: 3, clock: clock.now });
    expect(limiter.tryTake('k', 3)).toBe(true);
    const order: string[] = [];
    const controller = new AbortController();
    const takes = [
      limiter.take('k', 2, controller.signal).then(() => order.push('a (2)')),
      limiter.take('k', 1).then(() => order.push('b (1)')),
      limiter.take('k', 3).then(() => order.push('c (3)')),
      limiter.take('k', 1).then(() => order.push('d (1)')),
    ];
    expect(limiter.stats().waiting).toBe(4);
    await advance(clock, 100); // 1 token: enough for b, but a came first
    expect(order).toEqual([]);
    expect(limiter.tryTake('k')).toBe(false); // no jumping the queue either
    await advance(clock, 200);
    expect(order).toEqual(['a (2)', 'b (1)']);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0); // served: nothing left on the signal
    await advance(clock, 300);
    expect(order).toEqual(['a (2)', 'b (1)', 'c (3)']);
    await advance(clock, 100);
    await Promise.all(takes);
    expect(order).toEqual(['a (2)', 'b (1)', 'c (3)', 'd (1)']);
    expect(limiter.stats()).toMatchObject({ waiting: 0, allowed: 10 });
    expect(vi.getTimerCount()).toBe(0);
  });

  it('rejects a take past maxWaiting at once with RATE_LIMITED naming the bound', async () => {
    const clock = createFakeClock();
    const limiter = new RateLimiter({ rate: 10, burst: 1, maxWaiting: 3, clock: clock.now });
    limiter.tryTake('a');
    limiter.tryTake('b');
    const waiting = [limiter.take('a'), limiter.take('a'), limiter.take('b')];
    const refused = limiter.take('b');
    await expect(refused).rejects.toBeInstanceOf(RateLimitedError);
    await expect(refused).rejects.toMatchObject({
      code: 'RATE_LIMITED',
      message: expect.stringContaining('maxWaiting: 3'),
    });
    expect(limiter.stats()).toMatchObject({ waiting: 3, waitsRefused: 1 });
    await advance(clock, 200);
    await Promise.all(waiting);
    await expect(limiter.take('b')).resolves.toBeUndefined(); // room again once served
    expect(limiter.stats()).toMatchObject({ waiting: 0, waitsRefused: 1 });
  });

  it('defaults maxWaiting to 1000 and refuses impossible values', async () => {
    const clock = createFakeClock();
    const limiter = new RateLimiter({ rate: 1, burst: 1, clock: clock.now });
    for (let i = 0; i < 10; i++) limiter.tryTake(`k${i}`);
    const controller = new AbortController();
    const waiting = Array.from({ length: 1000 }, (_, i) => limiter.take(`k${i % 10}`, 1, controller.signal));
    expect(limiter.stats().waiting).toBe(1000);
    await expect(limiter.take('other', 1)).resolves.toBeUndefined(); // a take that need not wait
    await expect(limiter.take('k3', 1)).rejects.toThrow(/maxWaiting: 1000/);
    controller.abort();
    await Promise.allSettled(waiting);
    expect(limiter.stats().waiting).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
    expect(() => new RateLimiter({ rate: 1, maxWaiting: 0 })).toThrow(/maxWaiting/);
    expect(() => new RateLimiter({ rate: 1, maxWaiting: 1.5 })).toThrow(InvalidOptionError);
  });

  it('on abort, leaves the queue at once, rejects with the reason and clears its timer', async () => {
    const clock = createFakeClock();
    const limiter = new RateLimiter({ rate: 10, burst: 1, clock: clock.now });
    limiter.tryTake('k');
    const controller = new AbortController();
    const taking = limiter.take('k', 1, controller.signal);
    expect(vi.getTimerCount()).toBe(1);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    const reason = new Error('client left');
    controller.abort(reason);
    await expect(taking).rejects.toBe(reason);
    expect(vi.getTimerCount()).toBe(0);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    expect(limiter.stats()).toMatchObject({ waiting: 0, allowed: 1 });
    await advance(clock, 100);
    expect(limiter.tryTake('k')).toBe(true); // the aborted take took nothing
  });

  it('lets the next waiter take the place of an aborted head, in order', async () => {
    const clock = createFakeClock();
    const limiter = new RateLimiter({ rate: 10, burst: 2, clock: clock.now });
    limiter.tryTake('k', 2);
    const order: string[] = [];
    const head = new AbortController();
    const middle = new AbortController();
    const first = limiter.take('k', 2, head.signal).catch(() => order.push('first aborted'));
    const second = limiter.take('k', 1, middle.signal).catch(() => order.push('second aborted'));
    const third = limiter.take('k', 1).then(() => order.push('third'));
    const fourth = limiter.take('k', 1).then(() => order.push('fourth'));
    await advance(clock, 50);
    head.abort();
    middle.abort();
    await Promise.all([first, second]);
    expect(order).toEqual(['first aborted', 'second aborted']);
    await advance(clock, 50); // the third needs 1 token: 100 ms after the bucket emptied
    expect(order).toEqual(['first aborted', 'second aborted', 'third']);
    await advance(clock, 100);
    await Promise.all([third, fourth]);
    expect(order.slice(2)).toEqual(['third', 'fourth']);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('releases what an aborted waiter held, over thousands of waits', async () => {
    const clock = createFakeClock();
    const limiter = new RateLimiter({ rate: 1, burst: 1, maxWaiting: 10, maxKeys: 50, clock: clock.now });
    for (let i = 0; i < 5000; i++) {
      const key = `k${i}`;
      clock.advance(1000); // the earlier keys' buckets refill: swept, they leave room (maxKeys)
      limiter.tryTake(key);
      const controller = new AbortController();
      const taking = limiter.take(key, 1, controller.signal);
      controller.abort();
      await expect(taking).rejects.toMatchObject({ name: 'AbortError' });
      expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    }
    // Had an aborted waiter kept its place, the 11th take would have been refused.
    expect(limiter.stats()).toMatchObject({ waiting: 0, waitsRefused: 0 });
    expect(limiter.stats().keys).toBeLessThanOrEqual(50);
    expect(vi.getTimerCount()).toBe(0);
  });
});
