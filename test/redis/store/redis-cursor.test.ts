import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CURSOR_WIDTH,
  compareIds,
  formatCursor,
  isEpoch,
  maxId,
  newEpoch,
  parseCursor,
} from '../../../src/redis/store/redis-cursor.js';

const epoch = 'a1b2c3d4e5';
/** Redis stream ids as Redis writes them: ms up to 15 digits, seq up to 10. */
const redisId = fc
  .tuple(fc.integer({ min: 0, max: 10 ** 15 - 1 }), fc.integer({ min: 0, max: 10 ** 10 - 1 }))
  .map(([ms, seq]) => `${ms}-${seq}`);

describe('Redis cursors', () => {
  it('encode epoch and Redis id fixed-width: <epoch>-<15 digits>-<10 digits>', () => {
    expect(formatCursor(epoch, '1700000000000-0')).toBe('a1b2c3d4e5-001700000000000-0000000000');
    expect(formatCursor(epoch, '1700000000000-42')).toBe('a1b2c3d4e5-001700000000000-0000000042');
    expect(formatCursor(epoch, '0-1')).toBe(`${epoch}-${'0'.repeat(15)}-${'0'.repeat(9)}1`);
    expect(formatCursor(epoch, '5-1')).toHaveLength(
      CURSOR_WIDTH.epoch + CURSOR_WIDTH.ms + CURSOR_WIDTH.seq + 2,
    );
  });

  it('round-trip: parse(format(id)) gives the epoch and the id back (property)', () => {
    fc.assert(
      fc.property(redisId, (id) => {
        expect(parseCursor(formatCursor(epoch, id))).toEqual({ epoch, id });
      }),
    );
  });

  it('sort as plain strings exactly as their Redis ids sort numerically (property)', () => {
    fc.assert(
      fc.property(redisId, redisId, (a, b) => {
        const [ca, cb] = [formatCursor(epoch, a), formatCursor(epoch, b)];
        const byString = ca < cb ? -1 : ca === cb ? 0 : 1;
        expect(byString).toBe(Math.sign(compareIds(a, b)));
      }),
    );
  });

  it('orders ids by ms then seq, numerically (9-0 before 10-0, 5-9 before 5-10)', () => {
    expect(compareIds('9-0', '10-0')).toBeLessThan(0);
    expect(compareIds('5-9', '5-10')).toBeLessThan(0);
    expect(compareIds('5-10', '5-10')).toBe(0);
    expect(maxId('', '3-0')).toBe('3-0');
    expect(maxId('4-1', '')).toBe('4-1');
    expect(maxId('4-1', '4-2')).toBe('4-2');
  });

  it('rejects what is not a cursor of this format (parse → undefined)', () => {
    for (const bad of [
      '',
      'abc',
      '1',
      '99999999999999999999',
      'a1b2c3d4e5-1700000000000-0',
      'A1B2C3D4E5-001700000000000-0000000000',
      'a1b2c3d4e5-001700000000000-0000000000-',
      'a1b2c3d4e5_001700000000000_0000000000',
      '5f1c2a9e3b-0000000000000042', // a memory-store cursor
    ]) {
      expect(parseCursor(bad), bad).toBeUndefined();
    }
  });

  it('refuses ids wider than the format instead of writing a cursor that sorts wrong', () => {
    expect(() => formatCursor(epoch, `${10 ** 15}-0`)).toThrow();
    expect(() => formatCursor(epoch, `1-${10 ** 10}`)).toThrow();
    expect(() => formatCursor(epoch, 'nope')).toThrow();
  });

  it('makes random 10-hex-digit epochs', () => {
    const epochs = new Set(Array.from({ length: 100 }, newEpoch));
    expect(epochs.size).toBe(100);
    for (const e of epochs) expect(isEpoch(e)).toBe(true);
    expect(isEpoch('xyz')).toBe(false);
  });
});
