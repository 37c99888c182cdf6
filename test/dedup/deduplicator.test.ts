import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Deduplicator } from '../../src/dedup/deduplicator.js';
import { createEventId, InvalidOptionError } from '../../src/index.js';
import { createFakeClock } from '../../src/testing/index.js';

const WINDOW = 5000;

describe('Deduplicator', () => {
  it('never forgets an id inside the window (no false negatives), for random ids and clock steps', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(fc.string({ minLength: 1, maxLength: 40 }), fc.integer({ min: 0, max: WINDOW / 2 })),
          {
            minLength: 1,
            maxLength: 300,
          },
        ),
        (steps) => {
          const clock = createFakeClock();
          const dedup = new Deduplicator({ windowMs: WINDOW, expectedEvents: 10_000, clock: clock.now });
          const markedAt = new Map<string, number>();
          for (const [id, step] of steps) {
            clock.advance(step);
            const seenRecently = markedAt.has(id) && clock.now() - markedAt.get(id)! <= WINDOW;
            const answer = dedup.checkAndMark(id);
            if (seenRecently) expect(answer).toBe(true);
            if (!answer) markedAt.set(id, clock.now());
            // Every id marked within the window is still reported.
            for (const [known, at] of markedAt) {
              if (clock.now() - at <= WINDOW) expect(dedup.isDuplicate(known)).toBe(true);
            }
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('answers the same with the time passed in as with its clock read, and isDuplicate + markSeen hashing once', () => {
    type Op = { kind: 'check' | 'mark' | 'both'; id: number; step: number; other: boolean };
    const op = fc.record({
      kind: fc.constantFrom<Op['kind']>('check', 'mark', 'both'),
      id: fc.integer({ min: 0, max: 60 }),
      step: fc.integer({ min: 0, max: 700 }),
      other: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 400 }), (ops) => {
        const clock = createFakeClock();
        const options = { windowMs: 2000, expectedEvents: 40, clock: clock.now };
        // a: reads its clock, hashes every call afresh (an unrelated check in between clears
        // the reuse); b: is handed the time and reuses isDuplicate's hash in markSeen.
        const a = new Deduplicator(options);
        const b = new Deduplicator(options);
        for (const { kind, id, step, other } of ops) {
          clock.advance(step);
          const key = `id-${id}`;
          const now = clock.now();
          if (kind === 'check') expect(b.isDuplicate(key, now)).toBe(a.isDuplicate(key));
          else if (kind === 'both') expect(b.checkAndMark(key, now)).toBe(a.checkAndMark(key));
          else {
            expect(b.isDuplicate(key, now)).toBe(a.isDuplicate(key));
            if (other) b.isDuplicate('unrelated', now); // the reuse must not survive another hash
            a.isDuplicate('unrelated');
            b.markSeen(key, now);
            a.markSeen(key);
          }
        }
        const { checked: _a, duplicates: _da, ...restA } = a.stats();
        const { checked: _b, duplicates: _db, ...restB } = b.stats();
        expect(restB).toEqual(restA);
      }),
      { numRuns: 150 },
    );
  });

  it('forgets ids by 1.25 × windowMs', () => {
    const clock = createFakeClock();
    const dedup = new Deduplicator({ windowMs: WINDOW, clock: clock.now });
    dedup.markSeen('a');
    clock.advance(WINDOW);
    expect(dedup.isDuplicate('a')).toBe(true);
    clock.advance(WINDOW / 4);
    expect(dedup.isDuplicate('a')).toBe(false);
  });

  /**
   * A full window of traffic at the expected rate (10,000 ids of `seen(i)` over 5 s), then
   * 100,000 ids of `fresh(i)` that were never seen: how many the filter calls duplicates.
   */
  function falsePositives(
    seen: (i: number, now: number) => string,
    fresh: (i: number, now: number) => string,
  ) {
    const clock = createFakeClock();
    const dedup = new Deduplicator({
      windowMs: WINDOW,
      expectedEvents: 10_000,
      falsePositiveRate: 0.01,
      clock: clock.now,
    });
    for (let i = 0; i < 10_000; i++) {
      dedup.markSeen(seen(i, clock.now()));
      clock.advance(WINDOW / 10_000);
    }
    let count = 0;
    for (let i = 0; i < 100_000; i++) if (dedup.isDuplicate(fresh(i, clock.now()))) count++;
    return { count, dedup };
  }
  // Tolerance: three binomial standard deviations at p = 1 % over 100,000 trials
  // (sqrt(100,000 × 0.01 × 0.99) ≈ 31.5 → 95 of 1,000), so a correct filter fails by chance < 0.2 % of runs.
  const TOLERATED = 1000 + 95;

  it('measures a false-positive rate at or below the configured 1 % on 100,000 fresh ids', () => {
    const { count, dedup } = falsePositives(
      (i) => `seen-${i}-${(i * 2_654_435_761) % 1_000_003}`,
      (i) => `fresh-${i}`,
    );
    expect(count).toBeLessThanOrEqual(TOLERATED);
    expect(dedup.stats().estimatedFalsePositiveRate).toBeLessThanOrEqual(0.01);
  });

  it('keeps the false-positive rate at 1 % on the UUIDv7s the bus generates (ids sharing long prefixes)', () => {
    // Many ids per millisecond: they differ only in the counter and the random tail.
    const { count } = falsePositives(
      (_, now) => createEventId(now),
      (_, now) => createEventId(now),
    );
    expect(count).toBeLessThanOrEqual(TOLERATED);
  });

  it('keeps memory fixed and within 1.7 × the optimal bits, however much traffic arrives', () => {
    const clock = createFakeClock();
    const dedup = new Deduplicator({ expectedEvents: 10_000, falsePositiveRate: 0.01, clock: clock.now });
    const before = dedup.stats().memoryBytes;
    const optimalBytes = (10_000 * -Math.log(0.01)) / Math.LN2 ** 2 / 8; // ≈ 12 KB
    expect(before).toBeLessThan(optimalBytes * 1.7);
    for (let i = 0; i < 200_000; i++) {
      dedup.checkAndMark(`id-${i}`);
      if (i % 100 === 0) clock.advance(1);
    }
    expect(dedup.stats().memoryBytes).toBe(before);
  });

  it('rotates early instead of saturating when traffic exceeds expectedEvents, and says so', () => {
    const clock = createFakeClock();
    const dedup = new Deduplicator({ expectedEvents: 1000, clock: clock.now });
    for (let i = 0; i < 20_000; i++) dedup.markSeen(`burst-${i}`); // 20× the expected traffic, no time passing
    const stats = dedup.stats();
    expect(stats.earlyRotations).toBeGreaterThan(0);
    expect(stats.saturation).toBeLessThanOrEqual(1);
    expect(stats.estimatedFalsePositiveRate).toBeLessThanOrEqual(0.01);
    let falsePositives = 0;
    for (let i = 0; i < 10_000; i++) if (dedup.isDuplicate(`other-${i}`)) falsePositives++;
    expect(falsePositives).toBeLessThanOrEqual(100 + 30);
  });

  it('counts checks and duplicates', () => {
    const dedup = new Deduplicator();
    expect(dedup.checkAndMark('x')).toBe(false);
    expect(dedup.checkAndMark('x')).toBe(true);
    expect(dedup.stats()).toMatchObject({ checked: 2, duplicates: 1, generations: 5 });
  });

  it('rejects impossible options', () => {
    expect(() => new Deduplicator({ falsePositiveRate: 0 })).toThrow(InvalidOptionError);
    expect(() => new Deduplicator({ falsePositiveRate: 1.5 })).toThrow(/falsePositiveRate/);
    expect(() => new Deduplicator({ windowMs: -1 })).toThrow(/windowMs/);
    expect(() => new Deduplicator({ expectedEvents: 0.5 })).toThrow(/expectedEvents/);
  });
});
