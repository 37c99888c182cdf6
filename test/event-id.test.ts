import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../src/errors.js';
import { createEventId, eventIdTime } from '../src/event-id.js';

/** RFC 9562 UUIDv7: 48-bit ms, version 7, 12 bits, variant 10xx, 62 bits. Lowercase hex. */
const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/**
 * The generator keeps process-wide state (the last ms and its counter) and never goes back,
 * so every test (and every property run) starts from a clock reading far past all earlier ones.
 */
let clock = Date.UTC(2030, 0, 1);
const freshMs = () => (clock += 100_000_000);

function expectStrictlyIncreasing(ids: readonly string[]): void {
  let ordered = 0;
  for (let i = 1; i < ids.length; i++) if (ids[i - 1]! < ids[i]!) ordered++;
  expect(ordered).toBe(ids.length - 1);
  expect(new Set(ids).size).toBe(ids.length);
}

describe('createEventId', () => {
  it('produces UUIDv7 strings (version 7, variant 10xx)', () => {
    const ms = freshMs();
    const ids = Array.from({ length: 10_000 }, (_, i) => createEventId(ms + Math.floor(i / 7)));
    expect(ids.filter((id) => !UUID_V7.test(id))).toEqual([]);
  });

  it('puts the given epoch milliseconds in the first 48 bits (eventIdTime reads them back)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000_000 }), (step) => {
        const ms = freshMs() + step;
        const id = createEventId(ms);
        expect(eventIdTime(id)).toBe(ms);
        expect(id.slice(0, 8) + id.slice(9, 13)).toBe(ms.toString(16).padStart(12, '0'));
      }),
    );
  });

  it('floors fractional milliseconds', () => {
    const ms = freshMs();
    expect(eventIdTime(createEventId(ms + 0.999))).toBe(ms);
  });

  it('makes 100,000 unique, strictly increasing ids while the clock stands still', () => {
    const ms = freshMs();
    const ids = Array.from({ length: 100_000 }, () => createEventId(ms));
    expectStrictlyIncreasing(ids);
    expect(ids.every((id) => UUID_V7.test(id))).toBe(true);
  });

  it('makes 100,000 unique, strictly increasing ids while the clock goes backwards', () => {
    const ms = freshMs();
    const ids = Array.from({ length: 100_000 }, (_, i) => createEventId(ms - i));
    expectStrictlyIncreasing(ids);
    expect(eventIdTime(ids[0]!)).toBe(ms);
    // Never reports a time earlier than the latest the clock has shown.
    expect(ids.every((id) => eventIdTime(id) >= ms)).toBe(true);
  });

  it('borrows the next millisecond when more than 4,096 ids share one, and stays ordered after', () => {
    const ms = freshMs();
    const sameMs = Array.from({ length: 5_000 }, () => createEventId(ms));
    const nextMs = Array.from({ length: 100 }, () => createEventId(ms + 1));
    const later = Array.from({ length: 100 }, () => createEventId(ms + 2));
    expectStrictlyIncreasing([...sameMs, ...nextMs, ...later]);

    const times = sameMs.map(eventIdTime);
    expect(times[0]).toBe(ms);
    // The counter starts below 2,048, so at least 2,049 ids fit in ms before it overflows.
    expect(times.filter((t) => t === ms).length).toBeGreaterThanOrEqual(2_049);
    expect(times.filter((t) => t === ms + 1).length).toBeGreaterThan(0);
    expect(times.every((t) => t === ms || t === ms + 1)).toBe(true);
    expect(nextMs.every((id) => eventIdTime(id) === ms + 1)).toBe(true);
    expect(later.every((id) => eventIdTime(id) === ms + 2)).toBe(true);
  });

  it('counts up in the 12-bit field within a millisecond and restarts it in the next', () => {
    const ms = freshMs();
    const counter = (id: string) => Number.parseInt(id.slice(15, 18), 16);
    const [a, b, c] = [createEventId(ms), createEventId(ms), createEventId(ms)];
    expect(counter(b!)).toBe(counter(a!) + 1);
    expect(counter(c!)).toBe(counter(a!) + 2);
    expect(counter(createEventId(ms + 1))).toBeLessThan(2_048);
  });

  it('fills the last 62 bits with randomness', () => {
    const ms = freshMs();
    const tails = Array.from({ length: 1_000 }, () => createEventId(ms).slice(20));
    expect(new Set(tails).size).toBe(1_000);
  });

  it('uses every hex digit in every random position, and all four variant digits, across pool refills', () => {
    const ms = freshMs();
    // 10,000 ids span several blocks of pooled randomness; a position stuck on one value (a
    // mis-written or never-refilled block) fails here, which uniqueness alone would not catch.
    const tails = Array.from({ length: 10_000 }, () => createEventId(ms).slice(19));
    const valuesAt = (position: number) => new Set(tails.map((tail) => tail[position])).size;
    expect(valuesAt(0)).toBe(4); // the variant digit: 8, 9, a or b
    for (const position of [1, 2, 3, ...Array.from({ length: 12 }, (_, i) => 5 + i)]) {
      expect(valuesAt(position), `position ${position}`).toBe(16);
    }
  });

  it('stays strictly increasing and valid for any clock sequence: stalls, steps back, jumps, fractions', () => {
    const step = fc.oneof(
      fc.constant(0),
      fc.integer({ min: -5_000, max: 5_000 }),
      fc.double({ min: -3, max: 3, noNaN: true }),
      fc.integer({ min: 1, max: 10_000_000 }),
    );
    fc.assert(
      fc.property(
        fc.array(fc.tuple(step, fc.integer({ min: 1, max: 30 })), { minLength: 1, maxLength: 60 }),
        (steps) => {
          let now = freshMs();
          let latest = -Infinity;
          const ids: string[] = [];
          for (const [delta, repeat] of steps) {
            now += delta;
            for (let r = 0; r < repeat; r++) {
              const previous = ids.at(-1);
              const id = createEventId(now);
              latest = Math.max(latest, Math.floor(now));
              expect(id).toMatch(UUID_V7);
              // Never earlier than the latest reading; exactly the reading when the clock moved past the last id.
              expect(eventIdTime(id)).toBeGreaterThanOrEqual(latest);
              if (previous === undefined || Math.floor(now) > eventIdTime(previous))
                expect(eventIdTime(id)).toBe(Math.floor(now));
              ids.push(id);
            }
          }
          expectStrictlyIncreasing(ids);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('rejects a time that is not a number, or NaN, with a typed error', () => {
    expect(() => createEventId(Number.NaN)).toThrow(InvalidOptionError);
    expect(() => createEventId('1' as unknown as number)).toThrow(/nowMs/);
  });
});
