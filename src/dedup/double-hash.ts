/**
 * Bloom filter indexes from a Murmur3-style hash of the string, combined by double hashing
 * (Kirsch & Mitzenmacher): index_i = (h1 + i·h2) mod m. The string is read two UTF-16 units
 * per 32-bit word, alternate words into two independent lanes: each lane's multiply chain
 * waits on the previous word, so two chains run side by side in about the time of one.
 * h1 and h2 each mix both lanes. Indexes come from a multiply and a shift ("fastrange"),
 * not `%` on unsigned 32-bit values, which V8 computes as a floating-point remainder.
 * Non-cryptographic and allocation-free: bloom-filters' default hashing (xxhash over a
 * serialized input, twice) is about 10× slower.
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
    let a = 0x9747b28c;
    let b = 0x5bd1e995;
    let i = 0;
    for (; i + 3 < length; i += 4) {
      a = mixWord(a, key.charCodeAt(i) | (key.charCodeAt(i + 1) << 16));
      b = mixWord(b, key.charCodeAt(i + 2) | (key.charCodeAt(i + 3) << 16));
    }
    if (i + 1 < length) {
      a = mixWord(a, key.charCodeAt(i) | (key.charCodeAt(i + 1) << 16));
      i += 2;
    }
    if (i < length) b = mixWord(b, key.charCodeAt(i));
    // Final avalanches of both lanes, so nearby keys (sequential ids) spread over the whole filter.
    const h1 = fmix(a ^ Math.imul(b, 0x27d4eb2f) ^ length);
    const h2 = fmix(b ^ Math.imul(a, 0x165667b1) ^ length);
    const size = this.#size;
    const out = this.indexes;
    // (h · size) / 2³² lies in [0, size): exact in a double, since h · size < 2⁵³.
    let x = Math.floor(((h1 >>> 0) * size) / 4294967296);
    const step = Math.floor(((h2 >>> 0) * size) / 4294967296) || 1;
    for (let k = 0; k < out.length; k++) {
      out[k] = x;
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
