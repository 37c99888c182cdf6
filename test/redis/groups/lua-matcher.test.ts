import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePattern } from '../../../src/pattern/parse.js';
import { segmentsMatch } from '../../../src/pattern/segments-match.js';
import { ENTRY_TYPE, MATCHER } from '../../../src/redis/groups/group-lua.js';
import { compileGroupMatcher } from '../../../src/redis/groups/group-matcher.js';
import { packEntry } from '../../../src/redis/store/log-entry.js';
import { FIELD, PACKED_ENDS } from '../../../src/redis/store/lua-scripts.js';
import { connectNodeRedis, type NodeRedisClient } from '../store/redis-fixtures.js';

/**
 * The claim script filters the log with a Lua port of the bus's matcher (a trie of the group's
 * patterns, compiled in TypeScript once per group); the two must agree on every set of
 * patterns and every type, or a group would get (or miss) events its subscribers would not.
 */
let client: NodeRedisClient;
beforeAll(async () => {
  client = await connectNodeRedis();
});
afterAll(() => client.destroy());

/** ARGV: compiled patterns, type, compiled patterns, type, … Returns 1/0 per pair. */
const BATCH = `${MATCHER}
local out = {}
for i = 1, #ARGV, 2 do
  local matches = typeMatcher(ARGV[i])
  out[#out + 1] = matches(ARGV[i + 1]) and 1 or 0
end
return out`;

/** The Lua verdicts for [patterns, type] pairs. */
async function luaVerdicts(pairs: readonly (readonly [readonly string[], string])[]): Promise<number[]> {
  const args = pairs.flatMap(([patterns, type]) => [compileGroupMatcher(patterns), type]);
  return (await client.eval(BATCH, { arguments: args })) as number[];
}

/** The bus's verdicts: any of the patterns matches. */
function busVerdicts(pairs: readonly (readonly [readonly string[], string])[]): number[] {
  return pairs.map(([patterns, type]) =>
    patterns.some((p) => segmentsMatch(parsePattern(p).segments, type.split('.'))) ? 1 : 0,
  );
}

const segment = fc.constantFrom('a', 'b', 'ab', 'é', '$');
const patternSegment = fc.oneof(segment, fc.constant('*'), fc.constant('**'));
const name = (s: fc.Arbitrary<string>) => fc.array(s, { minLength: 1, maxLength: 7 }).map((p) => p.join('.'));

it('agrees with segmentsMatch on random patterns and types', async () => {
  const pairs = fc.sample(fc.tuple(name(patternSegment), name(segment)), 5000);
  const sets = pairs.map(([p, t]) => [[p], t] as const);
  const expected = busVerdicts(sets);
  expect(await luaVerdicts(sets)).toEqual(expected);
  // Both verdicts occur, so the comparison says something.
  expect(new Set(expected)).toEqual(new Set([0, 1]));
});

it('matches the documented examples', async () => {
  const cases: [string, string, number][] = [
    ['task.*', 'task.created', 1],
    ['task.*', 'task.created.x', 0],
    ['task.**', 'task', 1],
    ['**.y', 'q.x.y', 1],
    ['a.**.z', 'a.z', 1],
    ['a.**.**.z', 'a.b.c.z', 1],
    ['*', 'a.b', 0],
  ];
  expect(await luaVerdicts(cases.map((c) => [[c[0]], c[1]] as const))).toEqual(cases.map((c) => c[2]));
});

it('agrees with segmentsMatch on random sets of patterns sharing prefixes (one trie)', async () => {
  const pairs = fc.sample(
    fc.tuple(fc.array(name(patternSegment), { minLength: 1, maxLength: 12 }), name(segment)),
    3000,
  );
  const expected = busVerdicts(pairs);
  expect(await luaVerdicts(pairs)).toEqual(expected);
  expect(new Set(expected)).toEqual(new Set([0, 1]));
});

it('keeps literal segments that are Lua or JSON names apart: __proto__, 1, constructor', async () => {
  const patterns = ['a.__proto__', 'b.1', 'c.constructor.*', '**.2'];
  const cases: [string, number][] = [
    ['a.__proto__', 1],
    ['a.x', 0],
    ['b.1', 1],
    ['b.01', 0],
    ['c.constructor.x', 1],
    ['x.y.2', 1],
    ['x.y.3', 0],
  ];
  expect(await luaVerdicts(cases.map(([t]) => [patterns, t] as const))).toEqual(cases.map((c) => c[1]));
});

// Types the bus allows that JSON escapes (\" and \\), astral characters (4 bytes of UTF-8, two
// UTF-16 units in JS), and characters special to Lua patterns: compared as exact strings.
const exotic = fc.constantFrom(
  '"',
  '\\',
  'say."hi"',
  'C:\\tmp',
  '😀',
  '😁',
  'a😀',
  '%',
  '[',
  '(%a)',
  '-',
  'é',
);

it('agrees with segmentsMatch on types holding quotes, backslashes, astral and Lua-pattern characters', async () => {
  const pairs = fc.sample(
    fc.tuple(name(fc.oneof(exotic, fc.constant('*'), fc.constant('**'))), name(exotic)),
    3000,
  );
  const sets = pairs.map(([p, t]) => [[p], t] as const);
  const expected = busVerdicts(sets);
  expect(await luaVerdicts(sets)).toEqual(expected);
  expect(new Set(expected)).toEqual(new Set([0, 1]));
});

it('matches exotic types exactly', async () => {
  const cases: [string, string, number][] = [
    ['say."hi"', 'say."hi"', 1],
    ['say."hi"', 'say.\\', 0],
    ['path.C:\\tmp', 'path.C:\\tmp', 1],
    ['emoji.😀', 'emoji.😀', 1],
    ['emoji.😀', 'emoji.😁', 0],
    ['emoji.*', 'emoji.😁', 1],
    ['*.%a', 'x.b', 0],
    ['x.[', 'x.[', 1],
  ];
  expect(await luaVerdicts(cases.map((c) => [[c[0]], c[1]] as const))).toEqual(cases.map((c) => c[2]));
});

describe('entryType (the type of a log entry, for the claim script)', () => {
  const ENTRY = `${FIELD}${PACKED_ENDS}${ENTRY_TYPE}
return entryType(ARGV)`;
  const entryType = (fields: string[]) => client.eval(ENTRY, { arguments: fields });
  const json = (type: unknown) =>
    JSON.stringify({ type, stream: 'default', time: 1, data: { big: 2 ** 60 } });

  it('reads the type from the header of a packed entry (log-entry.ts), whatever the JSON says', async () => {
    for (const type of ['say."hi"', 'path.C:\\tmp', 'emoji.😀']) {
      expect(await entryType(['p', packEntry('x', 'tok', type, json('ignored'))])).toBe(type);
    }
    // Fewer than three newlines, or no id: not an event.
    expect(await entryType(['p', 'x\ntok\na.b'])).toBeNull();
    expect(await entryType(['p', '\ntok\na.b\n{}'])).toBeNull();
  });

  it('reads the `t` field of the older format, wherever it is', async () => {
    for (const type of ['say."hi"', 'path.C:\\tmp', 'emoji.😀']) {
      expect(await entryType(['i', 'x', 's', 'tok', 't', type, 'e', json('ignored')])).toBe(type);
      expect(await entryType(['t', type, 'i', 'x', 'e', json('ignored')])).toBe(type);
    }
  });

  it('decodes the JSON of an entry without one, to the exact string (astral characters included)', async () => {
    for (const type of ['say."hi"', 'say.\\', 'emoji.😀']) {
      expect(await entryType(['i', 'x', 's', 'tok', 'e', json(type)])).toBe(type);
    }
    const escaped = '{"type":"emoji.\\ud83d\\ude00","stream":"default","time":1,"data":null}';
    expect(await entryType(['i', 'x', 'e', escaped])).toBe('emoji.😀');
  });

  it('gives nothing (the entry is skipped, not an error) for JSON it cannot read', async () => {
    expect(await entryType(['i', 'x', 'e', '{"type":'])).toBeNull();
    expect(await entryType(['i', 'x', 'e', '{"type":"a.\\ud83d"}'])).toBeNull(); // lone surrogate
    expect(await entryType(['i', 'x', 'e', json(7)])).toBeNull();
    expect(await entryType(['i', 'x'])).toBeNull();
  });
});
