/**
 * Bloom filter indexes from one 32-bit Murmur3-style hash of the string, read two UTF-16
 * code units per 32-bit word, combined by double hashing (Kirsch & Mitzenmacher):
 * index_i = (h1 + i·h2) mod m, with h2 a second avalanche of the same state. Two indexes
 * derived from 32 bits still give each id one of 2³² probe sequences, far more than the
 * m² a filter can tell apart. Non-cryptographic and allocation-free: bloom-filters' default
 * hashing (xxhash over a serialized input, twice) is about 10× slower.
 */
export class DoubleHash {
  /** The indexes of the last `compute` call (reused buffer). */
  readonly indexes: Uint32Array;
  readonly #size: number;

  constructor(size: number, hashCount: number) {
    this.#size = size;
    this.indexes = new Uint32Array(hashCount);
  }

  compute(key: string): Uint32Array {
    const length = key.length;
    let h = 0x9747b28c;
    let i = 0;
    for (; i + 1 < length; i += 2) h = mixWord(h, key.charCodeAt(i) | (key.charCodeAt(i + 1) << 16));
    if (i < length) h = mixWord(h, key.charCodeAt(i));
    h ^= length;
    // Final avalanches so nearby keys (sequential ids) spread over the whole filter.
    const h1 = fmix(h);
    const h2 = fmix(h ^ 0x5bd1e995) | 1; // odd: with a power-of-two-free size it still cycles through distinct slots
    const size = this.#size;
    const out = this.indexes;
    let x = (h1 >>> 0) % size;
    const step = (h2 >>> 0) % size || 1;
    for (let i = 0; i < out.length; i++) {
      out[i] = x;
      x += step;
      if (x >= size) x -= size;
    }
    return out;
  }
}

/** One Murmur3 block step. */
function mixWord(h: number, word: number): number {
  let k = Math.imul(word, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  h ^= Math.imul(k, 0x1b873593);
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

function fmix(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return h ^ (h >>> 16);
}
