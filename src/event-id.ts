import { InvalidOptionError } from './errors.js';
import { describe } from './event.js';

const COUNTER_HEX = Array.from({ length: 4096 }, (_, i) => i.toString(16).padStart(3, '0'));
const MAX_COUNTER = 0xfff;
/** Starting counters below half leaves room for 2,048+ ids in the same millisecond. */
const COUNTER_START_RANGE = 0x7ff;
const MAX_UNIX_MS = 2 ** 48 - 1;

/**
 * An id is `prefix + counter + tail`: the prefix `tttttttt-tttt-7` (48-bit time, version) is
 * built once per millisecond, the counter is one of 4,096 ready strings, and the tail
 * `-Vrrr-rrrrrrrrrrrr` (variant V = 10xx, 62 random bits) is an 18-character slice of a
 * block of ready tails: two concatenations and one slice per id.
 */
const TAIL_CHARS = 18;
/** 8 random bytes give a tail's 62 bits. 2,048 tails take 16 KiB, within getRandomValues' 64 KiB per call. */
const TAIL_BYTES = 8;
const TAILS_PER_BLOCK = 2048;
const DASH = 0x2d;

/** Allocated on first use: nothing runs at module load, and a bundle that never makes ids keeps none. */
let randomBytes: Uint8Array | undefined;
let tailAscii: Uint8Array | undefined;
/** `tailAscii` as 16-bit units, to write two hex digits per store. */
let tailPairs: Uint16Array | undefined;
/** Two ASCII hex digits per byte value, in the platform's byte order (see `hexTables`). */
let hexPairs: Uint16Array | undefined;
let hexDigits: Uint8Array | undefined;
let decoder: TextDecoder | undefined;
let tails = '';
let tailOffset = 0;
/** Random 11-bit counter starts, one per new millisecond. */
let counterStarts: Uint16Array | undefined;
let startIndex = 0;

let lastMs = -1;
let counter = 0;
let prefix = '';

/**
 * A UUIDv7 (RFC 9562) whose 12-bit `rand_a` field is a counter (method 1 of §6.2), so ids are
 * strictly increasing within the process even when the clock stalls or steps back: compare
 * them as strings and you get creation order. 62 random bits (Web Crypto) make collisions
 * across processes negligible.
 */
export function createEventId(nowMs: number): string {
  // Math.floor of a BigInt, Symbol or object would throw a TypeError from deep inside, and
  // NaN would compare as neither later nor earlier than the last id's time.
  if (typeof nowMs !== 'number' || Number.isNaN(nowMs))
    throw new InvalidOptionError(`Expected \`nowMs\` to be epoch milliseconds, got ${describe(nowMs)}`);
  if (tailOffset === tails.length) refillTails();
  const ms = Math.min(MAX_UNIX_MS, Math.max(0, Math.floor(nowMs)));
  if (ms > lastMs) {
    lastMs = ms;
    counter = nextCounterStart();
    prefix = timePrefix(ms);
  } else if (++counter > MAX_COUNTER) {
    // Counter exhausted within one millisecond: borrow the next one (RFC 9562 §6.2 allows it).
    // Past the last representable millisecond there is none to borrow: fail rather than repeat.
    if (lastMs === MAX_UNIX_MS)
      throw new InvalidOptionError('Event ids exhausted: the clock is at the UUIDv7 limit');
    lastMs++;
    counter = 0;
    prefix = timePrefix(lastMs);
  }
  const o = tailOffset;
  tailOffset = o + TAIL_CHARS;
  return prefix + COUNTER_HEX[counter] + tails.slice(o, o + TAIL_CHARS);
}

/** The time part of an id made by `createEventId`, in epoch milliseconds. */
export function eventIdTime(id: string): number {
  return Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
}

/**
 * `tttttttt-tttt-7` for `ms`, from four 12-bit table lookups: `Number#toString(16)` of a
 * 48-bit value takes V8's slow double-to-radix path (about 300 ns, once per millisecond).
 */
function timePrefix(ms: number): string {
  const high = Math.floor(ms / 0x1000000); // the upper 24 bits
  const low = ms - high * 0x1000000;
  const third = COUNTER_HEX[low >>> 12]!;
  return `${COUNTER_HEX[high >>> 12]}${COUNTER_HEX[high & 0xfff]}${third.slice(0, 2)}-${third[2]}${COUNTER_HEX[low & 0xfff]}-7`;
}

function nextCounterStart(): number {
  if (counterStarts === undefined || startIndex === counterStarts.length) {
    counterStarts = globalThis.crypto.getRandomValues(counterStarts ?? new Uint16Array(256));
    startIndex = 0;
  }
  return counterStarts[startIndex++]! & COUNTER_START_RANGE;
}

/**
 * Makes the next block of tails: one getRandomValues, a loop writing their ASCII hex (dashes
 * stay in place from the first block; the 12-digit part two digits per 16-bit store), one
 * native TextDecoder call for the string. Web Crypto has no hex encoder (Node's Buffer had).
 */
function refillTails(): void {
  if (randomBytes === undefined || tailPairs === undefined || decoder === undefined) allocateTails();
  const bytes = globalThis.crypto.getRandomValues(randomBytes!);
  const ascii = tailAscii!;
  const pairs = tailPairs!;
  const digits = hexDigits!;
  const hex = hexPairs!;
  for (let r = 0, a = 0; r < bytes.length; r += TAIL_BYTES, a += TAIL_CHARS) {
    const b0 = bytes[r]!;
    // RFC 9562 variant `10xx`: two random bits under the fixed `10`.
    ascii[a + 1] = digits[((b0 >> 4) & 3) | 8]!;
    ascii[a + 2] = digits[b0 & 15]!;
    const b1 = bytes[r + 1]!;
    ascii[a + 3] = digits[b1 >> 4]!;
    ascii[a + 4] = digits[b1 & 15]!;
    // Characters 6–17 of a tail: rows are 18 long, so this is an even byte offset.
    const p = (a + 6) >> 1;
    pairs[p] = hex[bytes[r + 2]!]!;
    pairs[p + 1] = hex[bytes[r + 3]!]!;
    pairs[p + 2] = hex[bytes[r + 4]!]!;
    pairs[p + 3] = hex[bytes[r + 5]!]!;
    pairs[p + 4] = hex[bytes[r + 6]!]!;
    pairs[p + 5] = hex[bytes[r + 7]!]!;
  }
  tails = decoder!.decode(ascii);
  tailOffset = 0;
}

function allocateTails(): void {
  randomBytes = new Uint8Array(TAILS_PER_BLOCK * TAIL_BYTES);
  tailAscii = new Uint8Array(TAILS_PER_BLOCK * TAIL_CHARS);
  tailPairs = new Uint16Array(tailAscii.buffer);
  for (let a = 0; a < tailAscii.length; a += TAIL_CHARS) tailAscii[a] = tailAscii[a + 5] = DASH;
  hexDigits = Uint8Array.from('0123456789abcdef', (c) => c.charCodeAt(0));
  // Written as bytes, read as 16-bit units: right on little- and big-endian machines alike.
  const pairBytes = new Uint8Array(512);
  for (let b = 0; b < 256; b++) {
    pairBytes[2 * b] = hexDigits[b >> 4]!;
    pairBytes[2 * b + 1] = hexDigits[b & 15]!;
  }
  hexPairs = new Uint16Array(pairBytes.buffer);
  decoder = new TextDecoder();
}
