import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { InvalidOptionError } from '../../src/index.js';
import { RateLimiter } from '../../src/limit/rate-limiter.js';
import { createFakeClock } from '../../src/testing/index.js';

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
