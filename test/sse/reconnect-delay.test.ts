import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ReconnectDelay, retryAfterMs } from '../../src/sse/client/reconnect-delay.js';

describe('ReconnectDelay', () => {
  it('waits the reconnection time first (the server retry: over the default), then doubles up to the cap', () => {
    const delay = new ReconnectDelay(3000, 10_000, 250, () => 1);
    expect(delay.next(undefined)).toBe(3000);
    expect(delay.next(500)).toBe(1000);
    expect(delay.next(500)).toBe(2000);
    expect([delay.next(500), delay.next(500), delay.next(500)]).toEqual([4000, 8000, 10_000]);
    delay.opened();
    expect(delay.next(500)).toBe(500);
  });

  it('backs off from minBackoffMs when the server says retry: 0, so a down server is not hammered', () => {
    const delay = new ReconnectDelay(3000, 30_000, 250, () => 1);
    expect([delay.next(0), delay.next(0), delay.next(0)]).toEqual([0, 500, 1000]);
  });

  it('jitters each back-off step within its upper half and never past maxRetryMs', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: 60_000 }),
        fc.nat({ max: 60_000 }),
        fc.array(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), {
          minLength: 1,
          maxLength: 40,
        }),
        (retry, max, randoms) => {
          let i = 0;
          const delay = new ReconnectDelay(retry, max, 250, () => randoms[i++ % randoms.length]!);
          let ceiling = Math.max(Math.min(retry, max), 250);
          expect(delay.next(undefined)).toBe(Math.min(retry, max));
          for (let step = 1; step < randoms.length; step++) {
            ceiling = Math.min(max, ceiling * 2);
            const wait = delay.next(undefined);
            expect(wait).toBeLessThanOrEqual(Math.max(max, 0));
            expect(wait).toBeGreaterThanOrEqual(Math.floor(ceiling / 2));
          }
        },
      ),
    );
  });
});

describe('retryAfterMs', () => {
  it('reads delay-seconds and HTTP dates; anything else is undefined', () => {
    const now = Date.parse('2025-01-01T00:00:00Z');
    expect(retryAfterMs('2', now)).toBe(2000);
    expect(retryAfterMs(' 0 ', now)).toBe(0);
    expect(retryAfterMs('Wed, 01 Jan 2025 00:00:05 GMT', now)).toBe(5000);
    expect(retryAfterMs('Tue, 31 Dec 2024 00:00:00 GMT', now)).toBe(0);
    expect(retryAfterMs('soon', now)).toBeUndefined();
    expect(retryAfterMs('-1', now)).toBeUndefined();
    expect(retryAfterMs(null, now)).toBeUndefined();
    expect(retryAfterMs('99999999999', now)).toBe(2_147_483_647);
  });
});
