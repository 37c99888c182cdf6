import { randomFillSync } from 'node:crypto';

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const COUNTER_HEX = Array.from({ length: 4096 }, (_, i) => i.toString(16).padStart(3, '0'));
const MAX_COUNTER = 0xfff;
/** Starting counters below half leaves room for 2,048+ ids in the same millisecond. */
const COUNTER_START_RANGE = 0x7ff;
const MAX_UNIX_MS = 2 ** 48 - 1;

/** Random bytes are drawn in blocks: one `randomFillSync` per 1,024 ids instead of one per id. */
const pool = new Uint8Array(8 * 1024);
let poolOffset = pool.length;

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
  const ms = Math.min(MAX_UNIX_MS, Math.max(0, Math.floor(nowMs)));
  if (ms > lastMs) {
    lastMs = ms;
    counter = (randomByte() * 8 + randomByte()) & COUNTER_START_RANGE;
    prefix = timePrefix(ms);
  } else if (++counter > MAX_COUNTER) {
    // Counter exhausted within one millisecond: borrow the next one (RFC 9562 §6.2 allows it).
    lastMs++;
    counter = 0;
    prefix = timePrefix(lastMs);
  }
  if (poolOffset + 8 > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const o = poolOffset;
  poolOffset += 8;
  return (
    prefix +
    COUNTER_HEX[counter] +
    '-' +
    HEX[0x80 | (pool[o]! & 0x3f)] +
    HEX[pool[o + 1]!] +
    '-' +
    HEX[pool[o + 2]!] +
    HEX[pool[o + 3]!] +
    HEX[pool[o + 4]!] +
    HEX[pool[o + 5]!] +
    HEX[pool[o + 6]!] +
    HEX[pool[o + 7]!]
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

function randomByte(): number {
  if (poolOffset >= pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  return pool[poolOffset++]!;
}
