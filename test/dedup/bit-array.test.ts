import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BitArray } from '../../src/dedup/bit-array.js';

describe('BitArray', () => {
  it('holds exactly the bits added, at any size (not a multiple of 8 included), until cleared', () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 1, max: 300 })
          .chain((size) =>
            fc.tuple(
              fc.constant(size),
              fc.uniqueArray(fc.integer({ min: 0, max: size - 1 }), { maxLength: size }),
            ),
          ),
        ([size, added]) => {
          const bits = new BitArray(size);
          expect(bits.bytes.length).toBe(Math.ceil(size / 8));
          for (const index of added) bits.add(index);
          const set = new Set(added);
          for (let i = 0; i < size; i++) expect(bits.has(i), `bit ${i}`).toBe(set.has(i));
          bits.clear();
          for (let i = 0; i < size; i++) expect(bits.has(i)).toBe(false);
        },
      ),
    );
  });

  it('keeps bit i in byte i >> 3 at position i & 7, the layout the Deduplicator reads inline', () => {
    const bits = new BitArray(64);
    bits.add(0);
    bits.add(9);
    bits.add(63);
    expect([...bits.bytes]).toEqual([0b1, 0b10, 0, 0, 0, 0, 0, 0b1000_0000]);
  });
});
