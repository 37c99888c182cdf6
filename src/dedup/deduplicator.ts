import { InvalidEventError, InvalidOptionError } from '../errors.js';
import { describe } from '../event.js';
import { checkTime, optionsObject, positiveInteger } from '../option-checks.js';
import { BitArray } from './bit-array.js';
import { optimalFilterSize, optimalHashes } from './bloom-size.js';
import { DoubleHash } from './double-hash.js';

export interface DeduplicatorOptions {
  /** How long an id is remembered at least. It is forgotten by 1.25 × windowMs. @default 5000 */
  windowMs?: number;
  /** Ids expected per window; sizes the filters. @default 10000 */
  expectedEvents?: number;
  /** Target false-positive rate with `expectedEvents` ids in the window. @default 0.01 */
  falsePositiveRate?: number;
  /** Time source. @default Date.now */
  clock?: () => number;
}

export interface DeduplicatorStats {
  /** Ids checked or marked. */
  checked: number;
  /** Checks that answered "seen" (true duplicates plus false positives). */
  duplicates: number;
  /** Bloom generations kept: the current one plus `SPANS` older ones. */
  generations: number;
  /** Bytes of all generations' bit arrays. */
  memoryBytes: number;
  /** Bits per expected id (the optimum at 1 % is about 9.6). */
  bitsPerEntry: number;
  /** Estimated false-positive rate right now, from how full the generations are. */
  estimatedFalsePositiveRate: number;
  /** Fill of the current generation against its capacity (0–1). */
  saturation: number;
  /** Rotations forced by traffic above `expectedEvents` per window (ids then remembered for less than windowMs). */
  earlyRotations: number;
}

export const DEDUP_DEFAULTS = { windowMs: 5000, expectedEvents: 10_000, falsePositiveRate: 0.01 } as const;

/**
 * The window is covered by SPANS generations of windowMs / SPANS each, plus the current
 * one. More spans forget sooner after the window (here at 1.25 × windowMs) and hold fewer
 * surplus ids, at the price of more filters to probe; 4 keeps memory near its floor.
 */
const SPANS = 4;

/**
 * Most memory all generations may take (256 MiB, room for about 130 million ids per window at
 * 1 %): `expectedEvents: 2 ** 53` would otherwise fail deep inside with a RangeError, or take
 * all the memory there is.
 */
const MAX_MEMORY_BYTES = 256 * 1024 * 1024;

interface Generation {
  bits: BitArray;
  count: number;
}

/**
 * Time-windowed duplicate detection with rotating bloom generations. An id is remembered
 * for at least `windowMs` and forgotten by 1.25 × `windowMs`; memory is fixed at
 * construction, whatever the traffic. Every generation is sized for its share of
 * `expectedEvents` at `falsePositiveRate / (SPANS + 1)`, so that checking all of them stays
 * within the configured rate.
 *
 * Above `expectedEvents` per window the current generation would saturate (and the
 * false-positive rate climb); it rotates early instead, and `stats().earlyRotations` counts
 * it: memory and false positives stay bounded, but ids are then remembered for less than
 * `windowMs`. A positive is never a proof: the bus confirms it with an exact check.
 */
export class Deduplicator {
  readonly windowMs: number;
  readonly #span: number;
  readonly #capacity: number;
  readonly #hash: DoubleHash;
  readonly #clock: () => number;
  readonly #bitCount: number;
  readonly #hashCount: number;
  /** Newest first: [current, previous, …]. */
  readonly #generations: Generation[] = [];
  #currentStart: number;
  #checked = 0;
  #duplicates = 0;
  #earlyRotations = 0;
  /** The id whose indexes the hash's buffer holds (isDuplicate then markSeen hash once). */
  #hashed: string | undefined;

  constructor(given?: DeduplicatorOptions) {
    const options = optionsObject('Deduplicator', given);
    this.windowMs = positiveInteger('windowMs', options.windowMs, DEDUP_DEFAULTS.windowMs);
    const expected = positiveInteger('expectedEvents', options.expectedEvents, DEDUP_DEFAULTS.expectedEvents);
    const rate = options.falsePositiveRate ?? DEDUP_DEFAULTS.falsePositiveRate;
    if (typeof rate !== 'number' || !(rate > 0 && rate < 1)) {
      throw new InvalidOptionError(
        `Expected \`falsePositiveRate\` to be between 0 and 1 (exclusive), got ${describe(rate)}`,
      );
    }
    if (options.clock !== undefined && typeof options.clock !== 'function') {
      throw new InvalidOptionError('Expected `clock` to be a function');
    }
    this.#clock = options.clock ?? Date.now;
    this.#span = this.windowMs / SPANS;
    this.#capacity = Math.ceil(expected / SPANS);
    this.#bitCount = optimalFilterSize(this.#capacity, rate / (SPANS + 1));
    const memoryBytes = (SPANS + 1) * Math.ceil(this.#bitCount / 8);
    if (!(memoryBytes <= MAX_MEMORY_BYTES)) {
      throw new InvalidOptionError(
        `Expected \`expectedEvents\` (${expected}) at \`falsePositiveRate\` ${rate} to need at most ${MAX_MEMORY_BYTES} bytes of filters, got ${memoryBytes}`,
      );
    }
    this.#hashCount = optimalHashes(this.#bitCount, this.#capacity);
    this.#hash = new DoubleHash(this.#bitCount, this.#hashCount);
    for (let i = 0; i <= SPANS; i++) this.#generations.push({ bits: new BitArray(this.#bitCount), count: 0 });
    this.#currentStart = this.#clock();
  }

  /**
   * Was `id` seen within the window? May answer true for a new id (at about the configured rate), never false for a seen one.
   * @param now the time on this deduplicator's clock, when the caller has just read it (saves a read)
   */
  isDuplicate(id: string, now: number = this.#clock()): boolean {
    this.#checked++;
    this.#advance(now);
    const seen = this.#seen(this.#indexes(id));
    if (seen) this.#duplicates++;
    return seen;
  }

  /**
   * Remembers `id`. Right after `isDuplicate(id)` it reuses that call's hash.
   * @param now as for `isDuplicate`
   */
  markSeen(id: string, now: number = this.#clock()): void {
    this.#checked++;
    this.#advance(now);
    // Right after isDuplicate(id) the hash's buffer already holds id's indexes.
    this.#mark(id === this.#hashed ? this.#hash.indexes : this.#indexes(id), now);
  }

  /**
   * `isDuplicate` then `markSeen`, hashing once: returns whether `id` was seen before.
   * @param now as for `isDuplicate`
   */
  checkAndMark(id: string, now: number = this.#clock()): boolean {
    this.#checked++;
    this.#advance(now);
    const indexes = this.#indexes(id);
    if (this.#seen(indexes)) {
      this.#duplicates++;
      return true;
    }
    this.#mark(indexes, now);
    return false;
  }

  stats(): DeduplicatorStats {
    this.#advance(this.#clock());
    let notFalsePositive = 1;
    for (const generation of this.#generations) {
      const fill = 1 - Math.exp((-this.#hashCount * generation.count) / this.#bitCount);
      notFalsePositive *= 1 - fill ** this.#hashCount;
    }
    const memoryBytes = this.#generations.length * Math.ceil(this.#bitCount / 8);
    return {
      checked: this.#checked,
      duplicates: this.#duplicates,
      generations: this.#generations.length,
      memoryBytes,
      bitsPerEntry: (memoryBytes * 8) / (this.#capacity * SPANS),
      estimatedFalsePositiveRate: 1 - notFalsePositive,
      saturation: this.#generations[0]!.count / this.#capacity,
      earlyRotations: this.#earlyRotations,
    };
  }

  /** The bloom indexes of `id`, in the hash's buffer, remembering whose they are. */
  #indexes(id: string): Uint32Array {
    // The bus passes validated ids; this guards direct callers (a typed error, not a TypeError).
    if (typeof id !== 'string')
      throw new InvalidEventError(`Expected the id to be a string, got ${describe(id)}`);
    this.#hashed = id;
    return this.#hash.compute(id);
  }

  #seen(indexes: Uint32Array): boolean {
    for (const generation of this.#generations) {
      if (generation.count === 0) continue;
      // BitArray.has inlined: bit i lives in byte i >> 3 at position i & 7.
      const bytes = generation.bits.bytes;
      let all = true;
      for (let i = 0; i < indexes.length; i++) {
        const bit = indexes[i]!;
        if ((bytes[bit >>> 3]! & (1 << (bit & 7))) === 0) {
          all = false;
          break;
        }
      }
      if (all) return true;
    }
    return false;
  }

  #mark(indexes: Uint32Array, now: number): void {
    let current = this.#generations[0]!;
    if (current.count >= this.#capacity) {
      this.#earlyRotations++;
      this.#rotate(1);
      this.#currentStart = now;
      current = this.#generations[0]!;
    }
    const bytes = current.bits.bytes;
    for (let i = 0; i < indexes.length; i++) {
      const bit = indexes[i]!;
      bytes[bit >>> 3]! |= 1 << (bit & 7);
    }
    current.count++;
  }

  /** Rotates once per elapsed span, keeping generation starts aligned to the span grid. */
  #advance(now: number): void {
    checkTime('now', now);
    const elapsed = now - this.#currentStart;
    if (elapsed < this.#span) return; // includes a clock that stepped back
    const spans = Math.floor(elapsed / this.#span);
    this.#rotate(Math.min(spans, this.#generations.length));
    this.#currentStart += spans * this.#span;
  }

  /** Drops the `times` oldest generations and reuses their bit arrays as fresh current ones. */
  #rotate(times: number): void {
    for (let i = 0; i < times; i++) {
      const oldest = this.#generations.pop()!;
      oldest.bits.clear();
      oldest.count = 0;
      this.#generations.unshift(oldest);
    }
  }
}
