import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeStreamToken,
  encodeStreamName,
  MAX_PREFIX_LENGTH,
  prefixProblem,
  RedisKeys,
} from '../../../src/redis/store/redis-keys.js';

/** Redis Cluster's hash tag rule: the part between the first `{` and the next `}`, if non-empty. */
function hashTag(key: string): string {
  const open = key.indexOf('{');
  const close = key.indexOf('}', open + 1);
  return open >= 0 && close > open + 1 ? key.slice(open + 1, close) : key;
}

const oddNames = [
  'default',
  '{busline}:op 1 "quoted" \\ back',
  '__proto__',
  '🚀',
  'ünïcødé.事件',
  'a:b:c',
  's:x',
  '*?[]',
  ' ',
  'x'.repeat(256),
];

describe('stream name encoding', () => {
  it('turns any name into a key-safe token ([A-Za-z0-9_-]) and back, exactly', () => {
    for (const name of oddNames) {
      const token = encodeStreamName(name);
      expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(decodeStreamToken(token)).toBe(name);
    }
  });

  it('is injective on well-formed strings (property)', () => {
    // Lone surrogates are refused by checkAppendInput, so only well-formed names reach keys.
    const names = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 });
    fc.assert(
      fc.property(names, names, (a, b) => {
        expect(decodeStreamToken(encodeStreamName(a))).toBe(a);
        if (a !== b) expect(encodeStreamName(a)).not.toBe(encodeStreamName(b));
      }),
    );
  });
});

describe('RedisKeys', () => {
  it('puts every key of a prefix under the hash tag {prefix}, so one Cluster slot holds them all', () => {
    const keys = new RedisKeys('busline');
    const all = [
      keys.epoch,
      keys.log,
      keys.logMark,
      keys.dropped,
      keys.ids,
      keys.streams,
      ...oddNames.map((name) => keys.stream(encodeStreamName(name))),
      ...oddNames.map((name) => keys.streamMark(encodeStreamName(name))),
      ...oddNames.map((name) => keys.streamIds(encodeStreamName(name))),
    ];
    expect(new Set(all.map(hashTag))).toEqual(new Set(['busline']));
    expect(new Set(all).size).toBe(all.length);
    expect(keys.epoch).toBe('{busline}:epoch');
    expect(keys.log).toBe('{busline}:log');
    expect(keys.stream(encodeStreamName('a b'))).toBe('{busline}:s:YSBi');
  });

  it('keeps stream keys apart from the fixed keys and from mark and id-list keys, whatever the name', () => {
    const keys = new RedisKeys('p');
    const fixed = new Set([keys.epoch, keys.log, keys.logMark, keys.dropped, keys.ids, keys.streams]);
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 30 }), (name) => {
        const token = encodeStreamName(name);
        const own = [keys.stream(token), keys.streamMark(token), keys.streamIds(token)];
        for (const key of own) expect(fixed.has(key)).toBe(false);
        expect(new Set(own).size).toBe(3);
      }),
    );
  });

  it('escapes glob characters of the prefix in its SCAN pattern', () => {
    expect(new RedisKeys('a*b?').pattern).toBe('{a\\*b\\?}:*');
    expect(new RedisKeys('plain').pattern).toBe('{plain}:*');
  });

  it('refuses a prefix that would break the hash tag, is empty, too long, or not a string', () => {
    for (const bad of ['', 'a{b', 'a}b', 'tab\there', 'x'.repeat(MAX_PREFIX_LENGTH + 1), 42, null]) {
      expect(prefixProblem(bad)).toBeDefined();
      expect(() => new RedisKeys(bad as string)).toThrow(expect.objectContaining({ code: 'INVALID_OPTION' }));
    }
    for (const good of ['busline', 'app:events', 'tenant-42', 'ünï', 'x'.repeat(MAX_PREFIX_LENGTH)]) {
      expect(prefixProblem(good)).toBeUndefined();
    }
  });
});
