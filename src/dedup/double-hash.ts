/**
 * Bloom filter indexes from two 32-bit hashes computed in one pass over the string
 * (FNV-1a and a Murmur3-style mix), combined by double hashing (Kirsch & Mitzenmacher):
 * index_i = (h1 + i·h2) mod m. Non-cryptographic and allocation-free: bloom-filters'
 * default hashing (xxhash over a serialized input, twice) is about 10× slower.
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
    let h1 = 0x811c9dc5;
    let h2 = 0x9747b28c;
    for (let i = 0; i < key.length; i++) {
      const c = key.charCodeAt(i);
      h1 = Math.imul(h1 ^ c, 0x01000193);
      let k = Math.imul(c, 0xcc9e2d51);
      k = (k << 15) | (k >>> 17);
      h2 ^= Math.imul(k, 0x1b873593);
      h2 = (h2 << 13) | (h2 >>> 19);
      h2 = (Math.imul(h2, 5) + 0xe6546b64) | 0;
    }
    // Final avalanche so nearby keys (sequential ids) spread over the whole filter.
    h1 = fmix(h1 ^ key.length);
    h2 = fmix(h2 ^ key.length) | 1; // odd: with a power-of-two-free size it still cycles through distinct slots
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

function fmix(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return h ^ (h >>> 16);
}
