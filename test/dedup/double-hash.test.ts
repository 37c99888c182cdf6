import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DoubleHash } from '../../src/dedup/double-hash.js';

const SIZE = 32_344; // the default deduplicator's bits per generation
const indexesOf = (hash: DoubleHash, key: string) => [...hash.compute(key)];

describe('DoubleHash', () => {
  it('gives the same indexes for the same key, all within the filter', () => {
    const hash = new DoubleHash(SIZE, 9);
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 80 }), (key) => {
        const first = indexesOf(hash, key);
        expect(first.every((i) => Number.isInteger(i) && i >= 0 && i < SIZE)).toBe(true);
        expect(indexesOf(new DoubleHash(SIZE, 9), key)).toEqual(first);
      }),
    );
  });

  it('reads every character: changing any one of them, at any length, changes the indexes', () => {
    const hash = new DoubleHash(SIZE, 9);
    for (let length = 1; length <= 40; length++) {
      const key = 'a'.repeat(length);
      const base = indexesOf(hash, key).join();
      for (let p = 0; p < length; p++) {
        const changed = `${key.slice(0, p)}b${key.slice(p + 1)}`;
        expect(indexesOf(hash, changed).join(), `length ${length}, position ${p}`).not.toBe(base);
      }
    }
  });
});
