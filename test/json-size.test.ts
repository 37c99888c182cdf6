import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { jsonByteBound, jsonByteLength, NotSerializableError } from '../src/json-size.js';

/** The definition jsonByteLength must agree with (0 when JSON.stringify returns undefined). */
const actualBytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value) ?? '', 'utf8');
function agrees(value: unknown): void {
  expect(jsonByteLength(value, Infinity)).toBe(actualBytes(value));
}

// Characters JSON escapes or encodes in several bytes, plus lone and paired surrogates.
const awkwardChar = fc.oneof(
  fc.constantFrom('"', '\\', '/', '\b', '\f', '\n', '\r', '\t', '\u0000', '\u001f', '\u007f', '\u0080'),
  fc.constantFrom('\u07ff', '\u0800', '\u2028', '\uffff', '\ud83d', '\ude00', '😀', '𝄞'),
  fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
  fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)),
);
const awkwardString = fc.string({ unit: awkwardChar, maxLength: 30 });
const number = fc.oneof(
  fc.double(),
  fc.integer(),
  fc.constantFrom(-0, 1e21, 1e-7, -1.5e-300, 5e-324, Number.MAX_VALUE, 2 ** 53, 999999999999999, 1e15),
);
const omitted = fc.constantFrom(undefined, () => 1, Symbol('s'));
const date = fc.date({ noInvalidDate: false });

/** Any mix of the above, nested: what `data` may hold in practice. */
const { value: messy } = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    awkwardString,
    number,
    fc.boolean(),
    fc.constant(null),
    omitted,
    date,
    fc.array(tie('value'), { maxLength: 5 }),
    fc.dictionary(awkwardString, tie('value'), { maxKeys: 5 }),
  ),
}));

const holey: unknown[] = [undefined, () => 1];
holey[4] = 1; // indexes 2 and 3 are holes

describe('jsonByteLength equals Buffer.byteLength(JSON.stringify(x))', () => {
  const property = (arb: fc.Arbitrary<unknown>, numRuns = 300) =>
    fc.assert(fc.property(arb, agrees), { numRuns });

  it('for any JSON value', () => property(fc.jsonValue(), 1000));
  it('for JSON values with full-unicode strings (astral characters included)', () =>
    property(fc.jsonValue({ stringUnit: 'binary' }), 100));
  it('for strings with lone surrogates, control characters, quotes and backslashes', () =>
    property(awkwardString, 2000));
  it('for objects with unicode keys and values', () =>
    property(fc.dictionary(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' }))));
  it('for negative, fractional, exponent and non-finite numbers (NaN and ±Infinity become null)', () =>
    property(number, 2000));
  it('for Dates, valid or not, via toJSON', () => property(date));
  it('for objects with inherited enumerable keys (skipped) and an own key named hasOwnProperty', () => {
    const inherited = Object.create({ inherited: 'not written', alsoInherited: [1, 2] });
    inherited.own = 'written';
    inherited.hasOwnProperty = 'shadows the method the walk calls from Object.prototype';
    const nullPrototype = Object.assign(Object.create(null), { a: 1, hasOwnProperty: null });
    for (const value of [inherited, nullPrototype, { nested: inherited }]) {
      agrees(value);
      expect(jsonByteBound(value, Infinity)).toBeGreaterThanOrEqual(actualBytes(value));
    }
  });
  it('for nested mixes of arrays holding undefined/functions/symbols (null) and objects dropping them', () =>
    property(messy, 1000));
  it('for whatever fc.anything produces (boxed values, Maps, Sets, typed and sparse arrays)', () =>
    property(
      fc.anything({
        withBoxedValues: true,
        withDate: true,
        withMap: true,
        withSet: true,
        withNullPrototype: true,
        withObjectString: true,
        withSparseArray: true,
        withTypedArray: true,
        withUnicodeString: true,
      }),
      1000,
    ));

  it.each([
    ['an object with undefined-valued keys', { a: undefined, b: 1, c: undefined }],
    ['an array with holes, undefined and functions', holey],
    ['a __proto__ own key', JSON.parse('{"__proto__":{"x":[1,"é"]},"a":"\\u0000"}')],
    ['boxed values', [new String('é'), new Number(Number.NaN), new Boolean(false)]],
    [
      'a toJSON that uses its key',
      { k: { toJSON: (key: string) => `key:${key}` }, arr: [{ toJSON: String }] },
    ],
    ['a toJSON returning undefined', { gone: { toJSON: () => undefined }, kept: 1 }],
    ['an empty object and array', { o: {}, a: [] }],
    ['top-level undefined, function and symbol (0 bytes)', undefined],
  ])('for %s', (_, value) => agrees(value));

  // Regression: JSON.stringify calls toJSON on functions too (it was honoured on objects only).
  it('for a function that has a toJSON method', () => {
    agrees([Object.assign(() => 1, { toJSON: () => 'x' })]);
  });
});

describe('jsonByteLength with a limit', () => {
  it('is exact up to the limit and above the limit past it', () => {
    fc.assert(
      fc.property(messy, fc.nat({ max: 300 }), (value, limit) => {
        const exact = actualBytes(value);
        const measured = jsonByteLength(value, limit);
        if (exact <= limit) expect(measured).toBe(exact);
        else expect(measured).toBeGreaterThan(limit);
      }),
      { numRuns: 2000 },
    );
  });

  it('reports a 10 MB string as over a 1,000-byte limit', () => {
    expect(jsonByteLength('x'.repeat(10_000_000), 1000)).toBeGreaterThan(1000);
    expect(jsonByteLength({ big: 'é'.repeat(5_000_000) }, 1000)).toBeGreaterThan(1000);
  });

  it('stops visiting array elements and object keys soon after the limit is passed', () => {
    let visited = 0;
    const element = {
      toJSON() {
        visited++;
        return 'abcdefgh';
      },
    };
    expect(
      jsonByteLength(
        Array.from({ length: 100_000 }, () => element),
        1000,
      ),
    ).toBeGreaterThan(1000);
    expect(visited).toBeLessThan(200);
    visited = 0;
    const wide = Object.fromEntries(Array.from({ length: 100_000 }, (_, i) => [`k${i}`, element]));
    expect(jsonByteLength(wide, 1000)).toBeGreaterThan(1000);
    expect(visited).toBeLessThan(200);
  });

  // Regression: one huge string is rejected without reading it (counted via charCodeAt, not timed).
  it('reads about `limit` characters of a huge string, not all of it', () => {
    const original = String.prototype.charCodeAt;
    let reads = 0;
    String.prototype.charCodeAt = function (this: string, i: number) {
      reads++;
      return original.call(this, i);
    };
    try {
      jsonByteLength('x'.repeat(10_000_000), 1000);
    } finally {
      String.prototype.charCodeAt = original;
    }
    expect(reads).toBeLessThan(10_000);
  });
});

describe('jsonByteLength refuses what JSON.stringify cannot serialize', () => {
  const cyclicObject: Record<string, unknown> = { a: 1 };
  cyclicObject.self = cyclicObject;
  const cyclicArray: unknown[] = [1];
  cyclicArray.push([cyclicArray]);
  const indirect = { child: { parent: undefined as unknown } };
  indirect.child.parent = indirect;

  it.each([
    ['a BigInt', 1n],
    ['a BigInt nested in an array', [1, [2n]]],
    ['a BigInt nested in an object', { a: { b: 3n } }],
    ['an object containing itself', cyclicObject],
    ['an array containing itself', cyclicArray],
    ['an indirect cycle', indirect],
  ])('throws NotSerializableError for %s (with or without a limit)', (_, value) => {
    expect(() => JSON.stringify(value)).toThrow(TypeError);
    expect(() => jsonByteLength(value, Infinity)).toThrow(NotSerializableError);
    expect(() => jsonByteLength(value, 64 * 1024)).toThrow(NotSerializableError);
  });
});

describe('jsonByteBound', () => {
  it('is never below the exact size, and gives up (Infinity) rather than pass the budget', () => {
    fc.assert(
      fc.property(messy, fc.nat({ max: 2000 }), (value, budget) => {
        let exact: number;
        try {
          exact = jsonByteLength(value, Infinity);
        } catch {
          expect(jsonByteBound(value, Infinity)).toBe(Infinity); // the exact walk must report it
          return;
        }
        const bound = jsonByteBound(value, budget);
        if (bound !== Infinity) {
          expect(bound).toBeGreaterThanOrEqual(exact);
          // Arrays and objects give up past the budget; a scalar's bound comes whatever the budget.
          if (typeof value === 'object' && value !== null) expect(bound).toBeLessThanOrEqual(budget);
        }
        const unbounded = jsonByteBound(value, Infinity);
        if (unbounded !== Infinity) expect(unbounded).toBeGreaterThanOrEqual(exact);
      }),
      { numRuns: 2000 },
    );
  });

  it('leaves values with toJSON, boxed primitives and BigInt to the exact walk', () => {
    for (const value of [new Date(0), { a: [new Date(0)] }, Object(1), Object('s'), 1n, { n: 2n }])
      expect(jsonByteBound(value, Infinity)).toBe(Infinity);
    expect(jsonByteBound({ a: 'x', b: [1, null, undefined] }, Infinity)).toBeGreaterThanOrEqual(
      Buffer.byteLength(JSON.stringify({ a: 'x', b: [1, null, undefined] })),
    );
  });
});
