import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { optimalFilterSize, optimalHashes } from '../../src/dedup/bloom-size.js';

/** The false-positive rate of m bits, k hashes and n items: (1 − e^(−kn/m))^k. */
const expectedRate = (m: number, k: number, n: number) => (1 - Math.exp((-k * n) / m)) ** k;

describe('optimal Bloom filter sizes', () => {
  it('give at most the target false-positive rate, with no more bits than the optimum needs', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 10, max: 10_000_000 }),
        fc.double({ min: 1e-6, max: 0.2, noNaN: true }),
        (n, p) => {
          const m = optimalFilterSize(n, p);
          const k = optimalHashes(m, n);
          expect(Number.isInteger(m) && Number.isInteger(k) && k >= 1).toBe(true);
          // m is the least whole number of bits for which the optimal (fractional) k reaches p.
          expect(m).toBeGreaterThanOrEqual((-n * Math.log(p)) / Math.LN2 ** 2);
          expect(m - 1).toBeLessThan((-n * Math.log(p)) / Math.LN2 ** 2);
          // Rounding k up to whole hashes costs a little: within 10 % of p for p ≤ 0.2 (the Deduplicator
          // sizes each generation for p / 5 ≤ 0.2).
          expect(expectedRate(m, k, n)).toBeLessThanOrEqual(p * 1.1);
        },
      ),
    );
  });

  it('size 1 % at about 9.6 bits and 7 hashes per item', () => {
    const m = optimalFilterSize(10_000, 0.01);
    expect(m / 10_000).toBeCloseTo(9.585, 2);
    expect(optimalHashes(m, 10_000)).toBe(7);
  });
});
