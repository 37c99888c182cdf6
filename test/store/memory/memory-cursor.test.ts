import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MemoryCursor } from '../../../src/store/memory/memory-cursor.js';

describe('MemoryCursor', () => {
  it('formats every sequence number as <epoch>-<16 digits>, sorting as strings in number order', () => {
    const cursor = new MemoryCursor();
    fc.assert(
      fc.property(
        fc.nat({ max: Number.MAX_SAFE_INTEGER }),
        fc.nat({ max: Number.MAX_SAFE_INTEGER }),
        (a, b) => {
          const ca = cursor.format(a);
          expect(ca).toBe(`${cursor.epoch}-${String(a).padStart(16, '0')}`);
          expect(cursor.parse(ca)).toBe(a);
          expect(ca < cursor.format(b)).toBe(a < b);
        },
      ),
    );
    for (const n of [0, 1, 9, 10, 99, 100, 10 ** 15 - 1, 10 ** 15])
      expect(cursor.format(n)).toBe(`${cursor.epoch}-${String(n).padStart(16, '0')}`);
  });
});
