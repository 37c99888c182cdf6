import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parsePattern } from '../../../src/pattern/parse.js';
import { segmentsMatch } from '../../../src/pattern/segments-match.js';
import { MATCHER } from '../../../src/redis/groups/group-lua.js';
import { connectNodeRedis, type NodeRedisClient } from '../store/redis-fixtures.js';

/**
 * The claim script filters the log with a Lua port of the bus's matcher; the two must agree
 * on every pattern and type, or a group would get (or miss) events its subscribers would not.
 */
let client: NodeRedisClient;
beforeAll(async () => {
  client = await connectNodeRedis();
});
afterAll(() => client.destroy());

/** ARGV: pattern, type, pattern, type, … Returns 1/0 per pair. */
const BATCH = `${MATCHER}
local out = {}
for i = 1, #ARGV, 2 do
  out[#out + 1] = typeMatcher({ ARGV[i] })(ARGV[i + 1]) and 1 or 0
end
return out`;

const segment = fc.constantFrom('a', 'b', 'ab', 'é', '$');
const patternSegment = fc.oneof(segment, fc.constant('*'), fc.constant('**'));
const name = (s: fc.Arbitrary<string>) => fc.array(s, { minLength: 1, maxLength: 7 }).map((p) => p.join('.'));

it('agrees with segmentsMatch on random patterns and types', async () => {
  const pairs = fc.sample(fc.tuple(name(patternSegment), name(segment)), 5000);
  const reply = (await client.eval(BATCH, { arguments: pairs.flat() })) as number[];
  const expected = pairs.map(([p, t]) => (segmentsMatch(parsePattern(p).segments, t.split('.')) ? 1 : 0));
  expect(reply).toEqual(expected);
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
  const reply = (await client.eval(BATCH, { arguments: cases.flatMap((c) => [c[0], c[1]]) })) as number[];
  expect(reply).toEqual(cases.map((c) => c[2]));
});
