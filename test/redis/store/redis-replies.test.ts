import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { normalizeReply } from '../../../src/redis/client/redis-connection.js';
import { PACKED_FIELD, packEntry } from '../../../src/redis/store/log-entry.js';
import { encodeStreamName } from '../../../src/redis/store/redis-keys.js';
import { isTruncated } from '../../../src/redis/store/redis-read.js';
import {
  decodeEntry,
  decodeEvent,
  encodeEvent,
  parseAppendReply,
  parseEntries,
  parseXRead,
  UndecodableEntry,
} from '../../../src/redis/store/redis-replies.js';

const entry = [
  '1700000000000-0',
  ['i', 'id-1', 's', 'ZGVmYXVsdA', 'e', '{"type":"a","stream":"default","time":1,"data":2}'],
];

describe('reply parsing (pure, no Redis)', () => {
  it('normalizes RESP3 maps to [key, value] pairs and Buffers to strings', () => {
    expect(normalizeReply({ k: [Buffer.from('v')] })).toEqual([['k', ['v']]]);
    expect(normalizeReply(new Map([['k', 1]]))).toEqual([['k', 1]]);
    expect(normalizeReply(undefined)).toBeNull();
    expect(normalizeReply([1, 'a', null])).toEqual([1, 'a', null]);
  });

  it('reads XREAD replies in every client shape: null, RESP2 pairs, normalized map, flattened map', () => {
    const entries = [entry];
    expect(parseXRead(null)).toEqual([]);
    expect(parseXRead([])).toEqual([]);
    const expected = [{ id: entry[0], fields: entry[1] }];
    expect(parseXRead([['{p}:log', entries]])).toEqual(expected); // RESP2, node-redis RESP3 normalized
    expect(parseXRead(['{p}:log', entries])).toEqual(expected); // ioredis RESP3 "legacy" mapping
    expect(parseXRead(normalizeReply({ '{p}:log': entries }))).toEqual(expected);
    expect(() => parseXRead(7)).toThrow(expect.objectContaining({ code: 'STORE_UNAVAILABLE' }));
  });

  it('decodes an entry into a stored event with its cursor, keeping __proto__ keys as plain data', () => {
    const json =
      '{"type":"t","stream":"s","time":5,"data":{"__proto__":{"polluted":1}},"meta":{"__proto__":"x"}}';
    const [parsed] = parseEntries([['12-3', ['i', 'x', 'e', json]]]);
    const event = decodeEvent(parsed!, 'a1b2c3d4e5');
    expect(event.cursor).toBe('a1b2c3d4e5-000000000000012-0000000003');
    expect(Object.getPrototypeOf(event.data)).toBe(Object.prototype);
    expect(Object.hasOwn(event.data as object, '__proto__')).toBe(true);
    expect(Object.hasOwn(event.meta!, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('serializes without id and cursor, leaves out an absent meta, and types unserializable data', () => {
    const base = { id: 'x', type: 't', stream: 's', time: 1 };
    // Type and stream are in the entry's header (log-entry.ts), not in the JSON again.
    expect(encodeEvent({ ...base, data: 1 }, 0)).toBe('{"time":1,"data":1}');
    expect(encodeEvent({ ...base, data: 1, meta: { k: 'v' } }, 0)).toBe(
      '{"time":1,"data":1,"meta":{"k":"v"}}',
    );
    const error = (() => {
      try {
        encodeEvent({ ...base, data: { big: 1n } }, 3);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toMatchObject({ code: 'INVALID_EVENT', index: 3 });
  });

  it('parses the append and read script replies, and refuses malformed ones', () => {
    expect(parseAppendReply(['a1b2c3d4e5', '1-0 1-0 5-2', '010'], 3)).toEqual({
      epoch: 'a1b2c3d4e5',
      ids: ['1-0', '1-0', '5-2'],
      duplicates: [false, true, false],
    });
    for (const malformed of [
      ['e', '1-0'], // the reply of an older script: epoch, then id and flag per event
      ['e', '1-0', 0, '1-0', 1],
      ['e', '1-0 2-0', '0'], // fewer flags than events
      ['e', '1-0', '00'], // fewer ids than events
      ['e', 7, '00'],
    ]) {
      expect(() => parseAppendReply(malformed, 2)).toThrow(
        expect.objectContaining({ code: 'STORE_UNAVAILABLE' }),
      );
    }
  });
});

describe('the entry JSON without type and stream (log-entry.ts)', () => {
  const name = fc
    .string({ minLength: 1, maxLength: 30, unit: 'grapheme' })
    // biome-ignore lint/suspicious/noControlCharactersInRegex: filtering control characters out is the point
    .filter((s) => !/[\u0000-\u001f\u007f-\u009f]/.test(s));
  const packed = (id: string, stream: string, type: string, json: string) => ({
    id: '12-3',
    fields: [PACKED_FIELD, packEntry(id, encodeStreamName(stream), type, json)],
  });

  it('decodes what it encodes: type from the header, stream from the token, the rest from the JSON', () => {
    fc.assert(
      fc.property(
        name,
        name,
        name,
        fc.jsonValue(),
        fc.option(fc.dictionary(name, fc.string())),
        (id, stream, type, data, meta) => {
          const event = {
            id,
            type,
            stream,
            time: 1_700_000_000_000,
            data,
            ...(meta === null ? {} : { meta }),
          };
          const decoded = decodeEntry(packed(id, stream, type, encodeEvent(event, 0)), 'a1b2c3d4e5');
          // Through JSON, as stored: -0 comes back as 0.
          expect(decoded).toEqual({
            ...JSON.parse(JSON.stringify(event)),
            cursor: 'a1b2c3d4e5-000000000000012-0000000003',
          });
        },
      ),
    );
  });

  it('takes type and stream from a JSON that holds them (an entry of the older packed form)', () => {
    const json = '{"type":"old.type","stream":"old stream","time":5,"data":1}';
    expect(decodeEntry(packed('x', 'header stream', 'header.type', json), 'a1b2c3d4e5')).toMatchObject({
      type: 'old.type',
      stream: 'old stream',
    });
  });

  it('refuses an entry whose token is not the encoding of a stream name, or whose JSON has a bad type', () => {
    for (const token of ['', 'not base64!', 'ZGVmYXVsdA==', 'ZGVmYXVsdB']) {
      const entry = {
        id: '1-0',
        fields: [PACKED_FIELD, packEntry('x', token, 'a.b', '{"time":1,"data":1}')],
      };
      const decoded = decodeEntry(entry, 'a1b2c3d4e5');
      expect(decoded, token).toBeInstanceOf(UndecodableEntry);
    }
    const badType = packed('x', 's', 'a.b', '{"type":7,"time":1,"data":1}');
    expect(decodeEntry(badType, 'a1b2c3d4e5')).toBeInstanceOf(UndecodableEntry);
    // The same token read twice (the second from the cache) decodes the same.
    const ok = packed('x', 'default', 'a.b', '{"time":1,"data":1}');
    expect(decodeEntry(ok, 'a1b2c3d4e5')).toMatchObject({ stream: 'default' });
    expect(decodeEntry(ok, 'a1b2c3d4e5')).toMatchObject({ stream: 'default' });
  });
});

describe('the truncated rule', () => {
  const facts = { mark: '', dropped: '', exists: true, hidden: false };
  it('flags a cursor below the view’s trim mark, not one at or above it', () => {
    expect(isTruncated('4-0', { ...facts, mark: '5-0' }, true, '')).toBe(true);
    expect(isTruncated('5-0', { ...facts, mark: '5-0' }, true, '')).toBe(false);
    expect(isTruncated('6-0', { ...facts, mark: '5-0' }, false, '')).toBe(false);
    expect(isTruncated('1-0', facts, true, '')).toBe(false);
  });

  it('flags events hidden by the retention cutoff', () => {
    expect(isTruncated('9-0', { ...facts, hidden: true }, false, '10-0')).toBe(true);
  });

  it('judges a stream with no key by the dropped mark and the cutoff', () => {
    const gone = { ...facts, exists: false, mark: '', dropped: '7-0' };
    expect(isTruncated('6-0', gone, true, '')).toBe(true);
    expect(isTruncated('7-0', gone, true, '')).toBe(false);
    expect(isTruncated('8-0', gone, true, '9-0')).toBe(true);
    expect(isTruncated('9-0', gone, true, '9-0')).toBe(false);
    // The log is never judged that way: its own mark decides.
    expect(isTruncated('6-0', gone, false, '')).toBe(false);
  });
});
