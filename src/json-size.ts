/** Deeper nesting is refused: it is almost always a cycle, and walking it would exhaust the stack. */
export const MAX_JSON_DEPTH = 256;

/** Thrown by `jsonByteLength` for values `JSON.stringify` cannot serialize (BigInt, cycles). */
export class NotSerializableError extends Error {}

/**
 * The UTF-8 byte length of `JSON.stringify(value)`, computed without building the string.
 * Stops early and returns a number greater than `limit` once the limit is passed, so a huge
 * event costs at most `limit` bytes of work to reject. Returns 0 when `JSON.stringify` would
 * return `undefined` (undefined, functions, symbols).
 * @throws NotSerializableError for BigInt values and nesting deeper than MAX_JSON_DEPTH.
 */
export function jsonByteLength(value: unknown, limit: number): number {
  return Math.max(0, valueBytes(value, '', limit, 0));
}

/** Marks a value JSON.stringify leaves out (undefined, function, symbol). */
const OMITTED = -1;

function valueBytes(value: unknown, key: string | number, budget: number, depth: number): number {
  if (
    ((value !== null && typeof value === 'object') || typeof value === 'function') &&
    typeof (value as { toJSON?: unknown }).toJSON === 'function'
  ) {
    value = (value as { toJSON(key: string): unknown }).toJSON(String(key));
  }
  switch (typeof value) {
    case 'string':
      // Every character takes at least one byte: a string longer than the budget is over it, unread.
      return value.length + 2 > budget ? value.length + 2 : stringBytes(value);
    case 'number':
      return Number.isFinite(value) ? numberBytes(value) : 4;
    case 'boolean':
      return value ? 4 : 5;
    case 'bigint':
      throw new NotSerializableError('BigInt values are not JSON-serializable');
    case 'object':
      if (value === null) return 4;
      if (depth >= MAX_JSON_DEPTH) {
        throw new NotSerializableError(`nested deeper than ${MAX_JSON_DEPTH} levels (or circular)`);
      }
      if (Array.isArray(value)) return arrayBytes(value, budget, depth + 1);
      if (value instanceof Number || value instanceof String || value instanceof Boolean) {
        return valueBytes(value.valueOf(), key, budget, depth);
      }
      return objectBytes(value as Record<string, unknown>, budget, depth + 1);
    default:
      return OMITTED; // undefined, function, symbol
  }
}

function arrayBytes(array: readonly unknown[], budget: number, depth: number): number {
  let total = 2 + Math.max(0, array.length - 1); // brackets and commas
  for (let i = 0; i < array.length && total <= budget; i++) {
    const bytes = valueBytes(array[i], i, budget - total, depth);
    total += bytes === OMITTED ? 4 : bytes; // holes and undefined become null
  }
  return total;
}

function objectBytes(object: Record<string, unknown>, budget: number, depth: number): number {
  let total = 2;
  let members = 0;
  // for…in walks V8's enum cache without allocating the array Object.keys builds; the own-key
  // test keeps it to the properties JSON.stringify writes, in the same order. Written out as
  // `Object.prototype.hasOwnProperty.call` inside the loop, V8 answers it from the enum cache:
  // Object.hasOwn, or the method kept in a module variable (bundlers turn top-level consts
  // into vars), measured 20 ns slower per object (issue #18).
  for (const key in object) {
    // biome-ignore lint/suspicious/noPrototypeBuiltins: the shape V8 answers from the for…in enum cache
    if (!Object.prototype.hasOwnProperty.call(object, key)) continue;
    const bytes = valueBytes(object[key], key, budget - total, depth);
    if (bytes === OMITTED) continue;
    total += stringBytes(key) + 1 + bytes + (members++ > 0 ? 1 : 0);
    if (total > budget) break;
  }
  return total;
}

/** No number's `String(n)` is longer: sign, 17 digits, point, `e-`, 3 exponent digits (24). */
const NUMBER_BOUND = 25;
/** The widest a UTF-16 unit gets in JSON: a `\u00XX` escape or a lone surrogate's `\uXXXX`. */
const UNIT_BOUND = 6;

/**
 * A cheap upper bound of `jsonByteLength(value)`: the same walk, but strings (keys included)
 * counted at 6 bytes per unit and numbers at 25 bytes, so no character is read. Returns
 * Infinity when it cannot settle cheaply: the bound passes `budget`, or the value needs the
 * exact walk (toJSON, boxed primitives, BigInt, deep nesting); the caller then measures
 * exactly. Calls no toJSON and no getter twice when it settles.
 */
export function jsonByteBound(value: unknown, budget: number): number {
  const bound = valueBound(value, budget, 0);
  return bound === OMITTED ? 0 : bound;
}

function valueBound(value: unknown, budget: number, depth: number): number {
  switch (typeof value) {
    case 'string':
      return UNIT_BOUND * value.length + 2;
    case 'number':
      return NUMBER_BOUND;
    case 'boolean':
      return 5;
    case 'object':
      if (value === null) return 4;
      if (depth >= MAX_JSON_DEPTH || typeof (value as { toJSON?: unknown }).toJSON === 'function')
        return Number.POSITIVE_INFINITY;
      if (Array.isArray(value)) return arrayBound(value, budget, depth + 1);
      if (value instanceof Number || value instanceof String || value instanceof Boolean)
        return Number.POSITIVE_INFINITY;
      return objectBound(value as Record<string, unknown>, budget, depth + 1);
    case 'function':
      return typeof (value as { toJSON?: unknown }).toJSON === 'function'
        ? Number.POSITIVE_INFINITY
        : OMITTED;
    case 'bigint':
      return Number.POSITIVE_INFINITY;
    default:
      return OMITTED; // undefined, symbol
  }
}

function arrayBound(array: readonly unknown[], budget: number, depth: number): number {
  let total = 2 + Math.max(0, array.length - 1);
  for (let i = 0; i < array.length; i++) {
    const bytes = valueBound(array[i], budget - total, depth);
    total += bytes === OMITTED ? 4 : bytes;
    if (total > budget) return Number.POSITIVE_INFINITY;
  }
  return total > budget ? Number.POSITIVE_INFINITY : total;
}

function objectBound(object: Record<string, unknown>, budget: number, depth: number): number {
  let total = 2;
  for (const key in object) {
    // biome-ignore lint/suspicious/noPrototypeBuiltins: the shape V8 answers from the for…in enum cache (see objectBytes)
    if (!Object.prototype.hasOwnProperty.call(object, key)) continue;
    const bytes = valueBound(object[key], budget - total, depth);
    if (bytes === OMITTED) continue;
    // Quotes, colon and comma around the key: 4, counted for every member.
    total += UNIT_BOUND * key.length + 4 + bytes;
    if (total > budget) return Number.POSITIVE_INFINITY;
  }
  return total > budget ? Number.POSITIVE_INFINITY : total;
}

/** Characters of `String(n)` for a finite number. */
export function numberBytes(n: number): number {
  if (n >= 1e12 && n < 1e13 && Number.isInteger(n)) return 13; // epoch milliseconds, the common case
  if (Number.isInteger(n) && n >= 0 && n < 1e15) {
    let digits = 1;
    for (let x = n; x >= 10; x = Math.floor(x / 10)) digits++;
    return digits;
  }
  return String(n).length;
}

/** Bytes of the JSON string literal: quotes, escapes and UTF-8 widths. */
export function stringBytes(s: string): number {
  let bytes = 2;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) {
      if (c >= 0x20 && c !== 0x22 && c !== 0x5c) bytes += 1;
      else if (
        c === 0x22 ||
        c === 0x5c ||
        c === 0x08 ||
        c === 0x0c ||
        c === 0x0a ||
        c === 0x0d ||
        c === 0x09
      ) {
        bytes += 2;
      } else bytes += 6; // \u00XX
    } else if (c < 0x800) {
      bytes += 2;
    } else if (c >= 0xd800 && c <= 0xdbff) {
      const next = s.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4;
        i++;
      } else bytes += 6; // lone surrogate: JSON.stringify escapes it as \uXXXX
    } else if (c >= 0xdc00 && c <= 0xdfff) {
      bytes += 6;
    } else {
      bytes += 3;
    }
  }
  return bytes;
}
