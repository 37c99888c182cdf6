import { randomFillSync } from 'node:crypto';
import { InvalidOptionError } from './errors.js';
import { describe } from './event.js';

const COUNTER_HEX = Array.from({ length: 4096 }, (_, i) => i.toString(16).padStart(3, '0'));
/** RFC 9562 variant `10xx`: a random hex digit mapped onto 8, 9, a or b. */
const VARIANT = Array.from({ length: 128 }, (_, c) =>
  ((Number.parseInt(String.fromCharCode(c), 16) & 3) | 8).toString(16),
);
const MAX_COUNTER = 0xfff;
/** Starting counters below half leaves room for 2,048+ ids in the same millisecond. */
const COUNTER_START_RANGE = 0x7ff;
const MAX_UNIX_MS = 2 ** 48 - 1;

/**
 * Random hex digits, made in blocks: one `randomFillSync` and one native hex encoding per
 * 2,000 ids, then each id slices 16 digits (slices share the block's memory until flattened).
 */
const POOL_BYTES = 16_384;
const HEX_PER_ID = 16;
const randomBytes = Buffer.alloc(POOL_BYTES);
let hexPool = '';
let hexOffset = 0;

let lastMs = -1;
let counter = 0;
let prefix = '';

/**
 * A UUIDv7 (RFC 9562) whose 12-bit `rand_a` field is a counter (method 1 of §6.2), so ids are
 * strictly increasing within the process even when the clock stalls or steps back: compare
 * them as strings and you get creation order. 62 random bits make collisions across
 * processes negligible.
 */
export function createEventId(nowMs: number): string {
  // Math.floor of a BigInt, Symbol or object would throw a TypeError from deep inside.
  if (typeof nowMs !== 'number')
    throw new InvalidOptionError(`Expected \`nowMs\` to be epoch milliseconds, got ${describe(nowMs)}`);
  // Room for this id's digits plus 3 for a counter start, so one check covers both.
  if (hexOffset + HEX_PER_ID + 3 > hexPool.length) refillPool();
  const ms = Math.min(MAX_UNIX_MS, Math.max(0, Math.floor(nowMs)));
  if (ms > lastMs) {
    lastMs = ms;
    counter = Number.parseInt(hexPool.slice(hexOffset, hexOffset + 3), 16) & COUNTER_START_RANGE;
    hexOffset += 3; // not reused in the id's random part
    prefix = timePrefix(ms);
  } else if (++counter > MAX_COUNTER) {
    // Counter exhausted within one millisecond: borrow the next one (RFC 9562 §6.2 allows it).
    lastMs++;
    counter = 0;
    prefix = timePrefix(lastMs);
  }
  const o = hexOffset;
  hexOffset += HEX_PER_ID;
  return (
    prefix +
    COUNTER_HEX[counter] +
    '-' +
    VARIANT[hexPool.charCodeAt(o)] +
    hexPool.slice(o + 1, o + 4) +
    '-' +
    hexPool.slice(o + 4, o + 16)
  );
}

/** The time part of an id made by `createEventId`, in epoch milliseconds. */
export function eventIdTime(id: string): number {
  return Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
}

function timePrefix(ms: number): string {
  const hex = ms.toString(16).padStart(12, '0');
  return hex.slice(0, 8) + '-' + hex.slice(8, 12) + '-7';
}

function refillPool(): void {
  randomFillSync(randomBytes);
  hexPool = randomBytes.toString('hex');
  hexOffset = 0;
}
