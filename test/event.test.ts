import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type BusEvent, EVENT_DEFAULTS, envelopeBytes, envelopeFits, envelopeProblem } from '../src/event.js';
import { NotSerializableError } from '../src/json-size.js';

const valid = { type: 'task.created', data: { id: 1 } };

describe('envelopeProblem', () => {
  it.each([
    ['only type and data', valid],
    [
      'every field',
      {
        ...valid,
        id: 'evt-1',
        stream: 'op-42',
        time: 1_700_000_000_000,
        meta: { user: 'u1', n: 2, ok: true },
      },
    ],
    ['time 0 and negative time', { ...valid, time: -1 }],
    ['an empty meta', { ...valid, meta: {} }],
    ['a 256-character id and stream', { ...valid, id: 'i'.repeat(256), stream: 's'.repeat(256) }],
    ['unicode names', { ...valid, id: 'ид-😀', stream: 'flux-é' }],
  ])('accepts an envelope with %s', (_, input) => {
    expect(envelopeProblem(input)).toBeUndefined();
  });

  it.each([null, undefined, 'task.created', 42, true])('rejects the non-object %j', (input) => {
    expect(envelopeProblem(input)).toMatch(/^expected an event object/);
  });

  it.each([
    ['id', ''],
    ['id', 'i'.repeat(EVENT_DEFAULTS.maxNameLength + 1)],
    ['id', 42],
    ['id', null],
    ['id', 'a\nb'],
    ['id', 'bell\u0007'],
    ['stream', ''],
    ['stream', 's'.repeat(EVENT_DEFAULTS.maxNameLength + 1)],
    ['stream', { name: 'x' }],
    ['stream', 'c1\u009b'],
  ])('rejects %s = %j, naming the field', (field, value) => {
    expect(envelopeProblem({ ...valid, [field]: value })).toContain(`"${field}"`);
  });

  it.each([
    Number.NaN,
    Number.POSITIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
    '1700000000000',
    null,
    new Date(0),
    8.64e15 + 1,
    -1e17,
  ])('rejects time = %s, asking for epoch milliseconds a Date can hold', (time) => {
    expect(envelopeProblem({ ...valid, time })).toMatch(
      /"time".*epoch milliseconds within ±8640000000000000/,
    );
  });

  it('accepts the extremes a Date can hold, so toISOString never throws on a published time', () => {
    for (const time of [8.64e15, -8.64e15, 0]) {
      expect(envelopeProblem({ ...valid, time })).toBeUndefined();
      expect(() => new Date(time).toISOString()).not.toThrow();
    }
  });

  it.each([
    ['null', null, '"meta"'],
    ['an array', ['a'], '"meta"'],
    ['a string', 'user=1', '"meta"'],
    ['a nested object', { user: { id: 1 } }, '"meta.user"'],
    ['an array value', { roles: ['admin'] }, '"meta.roles"'],
    ['a NaN value', { score: Number.NaN }, '"meta.score"'],
    ['an Infinity value', { score: Number.POSITIVE_INFINITY }, '"meta.score"'],
    ['a null value', { ok: true, gone: null }, '"meta.gone"'],
    ['a BigInt value', { big: 1n }, '"meta.big"'],
  ])('rejects a meta that is (or holds) %s, naming where', (_, meta, where) => {
    expect(envelopeProblem({ ...valid, meta })).toContain(where);
  });
});

const name = fc.string({ unit: 'binary', minLength: 1, maxLength: 40 });
const time = fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constant(-0));
const data = fc.oneof(
  fc.jsonValue({ stringUnit: 'binary' }),
  fc.constantFrom(undefined, () => 'dropped', Symbol('dropped'), new Date(0), { skip: undefined }),
);
const metaValue = fc.oneof(
  fc.string({ unit: 'binary' }),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
);
const meta = fc.option(fc.dictionary(fc.string({ unit: 'binary' }), metaValue, { maxKeys: 5 }), {
  nil: undefined,
});
const envelope = fc.record(
  { id: name, type: name, stream: name, time, data, meta },
  { requiredKeys: ['id', 'type', 'stream', 'time', 'data'] },
);

/** The definition: JSON.stringify omits undefined (and function, symbol) `data` and `meta`. */
const actualBytes = ({ id, type, stream, time, data, meta }: BusEvent) =>
  Buffer.byteLength(JSON.stringify({ id, type, stream, time, data, meta }), 'utf8');

describe('envelopeBytes', () => {
  it('equals the UTF-8 length of JSON.stringify of the envelope', () => {
    fc.assert(
      fc.property(envelope, (event) => {
        expect(envelopeBytes(event, Infinity)).toBe(actualBytes(event));
      }),
      { numRuns: 2000 },
    );
  });

  it('is exact up to the limit and above the limit past it', () => {
    fc.assert(
      fc.property(envelope, fc.nat({ max: 400 }), (event, limit) => {
        const exact = actualBytes(event);
        const measured = envelopeBytes(event, limit);
        if (exact <= limit) expect(measured).toBe(exact);
        else expect(measured).toBeGreaterThan(limit);
      }),
      { numRuns: 2000 },
    );
  });

  it.each([
    ['undefined data and no meta key', { id: 'a', type: 't', stream: 's', time: 1, data: undefined }],
    ['meta present but undefined', { id: 'a', type: 't', stream: 's', time: 1, data: 1, meta: undefined }],
    ['data null (kept as null)', { id: 'a', type: 't', stream: 's', time: 1, data: null }],
    ['an empty meta', { id: 'a', type: 't', stream: 's', time: 1, data: '', meta: {} }],
  ])('matches JSON.stringify for %s', (_, event) => {
    expect(envelopeBytes(event as BusEvent, Infinity)).toBe(actualBytes(event as BusEvent));
  });

  it('throws NotSerializableError for data holding a BigInt or a cycle', () => {
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    const base = { id: 'a', type: 't', stream: 's', time: 1 };
    expect(() => envelopeBytes({ ...base, data: { n: 1n } }, Infinity)).toThrow(NotSerializableError);
    expect(() => envelopeBytes({ ...base, data: cycle }, EVENT_DEFAULTS.maxEventBytes)).toThrow(
      NotSerializableError,
    );
  });
});

describe('envelopeFits (the bound first, the exact size when the bound does not settle it)', () => {
  it('answers exactly whether the envelope fits, for limits around its size', () => {
    fc.assert(
      fc.property(envelope, fc.integer({ min: -40, max: 400 }), (event, delta) => {
        const exact = actualBytes(event);
        const limit = Math.max(0, exact + delta);
        expect(envelopeFits(event, limit)).toBe(exact <= limit);
      }),
      { numRuns: 3000 },
    );
  });

  it('throws NotSerializableError as envelopeBytes does, however large the limit', () => {
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    const base = { id: 'a', type: 't', stream: 's', time: 1 };
    expect(() => envelopeFits({ ...base, data: { n: 1n } }, EVENT_DEFAULTS.maxEventBytes)).toThrow(
      NotSerializableError,
    );
    expect(() => envelopeFits({ ...base, data: [cycle] }, Infinity)).toThrow(NotSerializableError);
  });

  it('calls a toJSON once when it fits', () => {
    let calls = 0;
    const data = { at: { toJSON: () => `call ${++calls}` } };
    expect(envelopeFits({ id: 'a', type: 't', stream: 's', time: 1, data }, 1000)).toBe(true);
    expect(calls).toBe(1);
  });
});
