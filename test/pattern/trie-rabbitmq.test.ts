import { describe, expect, it } from 'vitest';
import { parsePattern } from '../../src/pattern/parse.js';
import { PatternTrie } from '../../src/pattern/trie.js';
import { referenceMatches } from './reference-matcher.js';

interface Member {
  seq: number;
  matchStamp: number;
  name: string;
}

const matchNames = (trie: PatternTrie<Member>, type: string) =>
  trie.match(type.split('.')).map((m) => m.name);

// The classic RabbitMQ topic-exchange vectors (rabbit_exchange_type_topic tests, as carried
// by qlobber's test/rabbitmq.js), with `#` written `**`. The empty binding and the empty
// topic are dropped: in busline an empty pattern or type is invalid (see parse.test.ts).
// biome-ignore format: one binding per cell reads like the original table
const rabbitBindings: [string, string][] = [
  ['a.b.c', 't1'], ['a.*.c', 't2'], ['a.**.b', 't3'], ['a.b.b.c', 't4'], ['**', 't5'],
  ['**.**', 't6'], ['**.b', 't7'], ['*.*', 't8'], ['a.*', 't9'], ['*.b.c', 't10'],
  ['a.**', 't11'], ['a.**.**', 't12'], ['b.b.c', 't13'], ['a.b.b', 't14'], ['a.b', 't15'],
  ['b.c', 't16'], ['*.*.*', 't18'], ['vodka.martini', 't19'], ['a.b.c', 't20'], ['*.**', 't21'],
  ['**.*.**', 't22'], ['*.**.**', 't23'], ['**.**.**', 't24'], ['*', 't25'], ['**.b.**', 't26'],
];

const tn = (s: string) => s.split(' ').map((n) => `t${n}`);
const rabbitBefore: [string, string[]][] = [
  ['a.b.c', tn('1 2 5 6 10 11 12 18 20 21 22 23 24 26')],
  ['a.b', tn('3 5 6 7 8 9 11 12 15 21 22 23 24 26')],
  ['a.b.b', tn('3 5 6 7 11 12 14 18 21 22 23 24 26')],
  ['b.c.c', tn('5 6 18 21 22 23 24 26')],
  ['a.a.a.a.a', tn('5 6 11 12 21 22 23 24')],
  ['vodka.gin', tn('5 6 8 21 22 23 24')],
  ['vodka.martini', tn('5 6 8 19 21 22 23 24')],
  ['b.b.c', tn('5 6 10 13 18 21 22 23 24 26')],
  ['nothing.here.at.all', tn('5 6 21 22 23 24')],
  ['oneword', tn('5 6 21 22 23 24 25')],
];
const rabbitRemoved = tn('1 5 11 19 21');
const rabbitAfter: [string, string[]][] = [
  ['a.b.c', tn('2 6 10 12 18 20 22 23 24 26')],
  ['a.b', tn('3 6 7 8 9 12 15 22 23 24 26')],
  ['a.b.b', tn('3 6 7 12 14 18 22 23 24 26')],
  ['b.c.c', tn('6 18 22 23 24 26')],
  ['a.a.a.a.a', tn('6 12 22 23 24')],
  ['vodka.gin', tn('6 8 22 23 24')],
  ['vodka.martini', tn('6 8 22 23 24')],
  ['b.b.c', tn('6 10 13 18 22 23 24 26')],
  ['nothing.here.at.all', tn('6 22 23 24')],
  ['oneword', tn('6 22 23 24 25')],
];

/** A trie holding the bindings; members are fresh per trie (matchStamp is per-trie scratch). */
function rabbitTrie() {
  const trie = new PatternTrie<Member>();
  const bindings = rabbitBindings.map(([pattern, name]) => ({
    pattern: parsePattern(pattern),
    member: { seq: Number(name.slice(1)), matchStamp: 0, name },
  }));
  for (const { pattern, member } of bindings) trie.add(pattern, member);
  return { trie, bindings };
}

describe('PatternTrie on the RabbitMQ topic vectors', () => {
  it('agrees with the reference matcher on every vector, before and after the removals', () => {
    const oracle = (bindings: [string, string][], type: string) =>
      bindings.filter(([pattern]) => referenceMatches(pattern, type)).map(([, name]) => name);
    const kept = rabbitBindings.filter(([, name]) => !rabbitRemoved.includes(name));
    for (const [type, expected] of rabbitBefore) expect(oracle(rabbitBindings, type), type).toEqual(expected);
    for (const [type, expected] of rabbitAfter) expect(oracle(kept, type), type).toEqual(expected);
  });

  it.each(rabbitBefore)('routes %s to %j', (type, expected) => {
    expect(matchNames(rabbitTrie().trie, type)).toEqual(expected);
  });

  it.each(rabbitAfter)('after removing t1 t5 t11 t19 t21, routes %s to %j', (type, expected) => {
    const { trie, bindings } = rabbitTrie();
    for (const { pattern, member } of bindings) {
      if (rabbitRemoved.includes(member.name)) expect(trie.remove(pattern, member)).toBe(true);
    }
    expect(matchNames(trie, type)).toEqual(expected);
  });

  it('matches nothing once every binding is removed, and a second removal reports false', () => {
    const { trie, bindings } = rabbitTrie();
    for (const { pattern, member } of bindings) expect(trie.remove(pattern, member)).toBe(true);
    for (const { pattern, member } of bindings) expect(trie.remove(pattern, member)).toBe(false);
    expect(trie.size).toBe(0);
    for (const [type] of rabbitBefore) expect(matchNames(trie, type)).toEqual([]);
  });
});
