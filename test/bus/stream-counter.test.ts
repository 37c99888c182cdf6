import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StreamCounter } from '../../src/bus/stream-counter.js';

describe('StreamCounter', () => {
  it('keeps the busy stream first with its exact count after 1,000 one-off streams', () => {
    const counter = new StreamCounter();
    for (let i = 0; i < 5000; i++) counter.count('busy');
    for (let i = 0; i < 1000; i++) counter.count(`one-off-${i}`);
    expect(counter.top(100)[0]).toEqual({ stream: 'busy', published: 5000 });
    expect(counter.estimates(1)[0]).toEqual({ stream: 'busy', published: 5000, error: 0 });
    expect(counter.top(100)).toHaveLength(100);
  });

  it('counts exactly, busiest first, while there are no more streams than counters', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 7 }), { maxLength: 300 }), (picks) => {
        const counter = new StreamCounter(8);
        const truth = new Map<string, number>();
        for (const pick of picks) {
          counter.count(`s${pick}`);
          truth.set(`s${pick}`, (truth.get(`s${pick}`) ?? 0) + 1);
        }
        const top = counter.top(100);
        expect(Object.fromEntries(top.map((t) => [t.stream, t.published]))).toEqual(
          Object.fromEntries(truth),
        );
        expect(top.map((t) => t.published)).toEqual([...truth.values()].sort((a, b) => b - a));
      }),
    );
  });

  it('keeps every stream above total/k, and each true count within [published - error, published]', () => {
    // Skewed picks (a few hot streams among many cold ones), so some streams are heavy.
    const pick = fc.oneof(
      { weight: 3, arbitrary: fc.integer({ min: 0, max: 3 }) },
      { weight: 2, arbitrary: fc.integer({ min: 0, max: 200 }) },
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 12 }), fc.array(pick, { maxLength: 500 }), (k, picks) => {
        const counter = new StreamCounter(k);
        const truth = new Map<string, number>();
        for (const p of picks) {
          counter.count(`s${p}`);
          truth.set(`s${p}`, (truth.get(`s${p}`) ?? 0) + 1);
        }
        const total = picks.length;
        const estimates = new Map(counter.estimates().map((e) => [e.stream, e]));
        expect(estimates.size).toBe(Math.min(k, truth.size));
        let sum = 0;
        for (const [stream, { published, error }] of estimates) {
          const actual = truth.get(stream) ?? 0;
          expect(published - error).toBeLessThanOrEqual(actual);
          expect(actual).toBeLessThanOrEqual(published);
          expect(error).toBeLessThanOrEqual(total / k);
          sum += published;
        }
        expect(sum).toBe(total);
        for (const [stream, actual] of truth) {
          if (actual > total / k) expect(estimates.has(stream)).toBe(true);
        }
        // Fewer than n counters can exceed total/n: a stream above it is in top(n).
        for (const n of [1, 2, 3]) {
          const top = new Set(counter.top(n).map((t) => t.stream));
          for (const [stream, actual] of truth) {
            if (n <= k && actual > total / n) expect(top.has(stream)).toBe(true);
          }
        }
      }),
    );
  });
});
