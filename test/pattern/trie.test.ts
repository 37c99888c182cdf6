import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parsePattern } from '../../src/pattern/parse.js';
import { PatternTrie } from '../../src/pattern/trie.js';
import { referenceMatches } from './reference-matcher.js';

interface Member {
  seq: number;
  matchStamp: number;
  name: string;
}

const member = (seq: number, name = `m${seq}`): Member => ({ seq, matchStamp: 0, name });
const names = (members: readonly Member[]) => members.map((m) => m.name);
/** Both ways to match: on split segments and on the type string (matchType); they must agree. */
const matchBoth = (trie: PatternTrie<Member>, type: string): Member[] => {
  const bySegments = trie.match(type.split('.'));
  expect(trie.matchType(type), `matchType(${JSON.stringify(type)})`).toEqual(bySegments);
  return bySegments;
};
const matchNames = (trie: PatternTrie<Member>, type: string) => names(matchBoth(trie, type));

// Small alphabets, so that random patterns and types match each other often.
const word: fc.Arbitrary<string> = fc.constantFrom('a', 'b', 'c');
// A wider one: words of several lengths sharing prefixes, and more of them than a node
// scans in place, so matchType also takes its Map path.
const wideWord = fc.constantFrom('a', 'ab', 'abc', 'b', 'ba', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k');
const typeArb = (max: number, words = word) =>
  fc.array(words, { minLength: 1, maxLength: max }).map((s) => s.join('.'));
const patternSegment = (words: fc.Arbitrary<string>) =>
  fc.oneof(
    { arbitrary: words, weight: 3 },
    { arbitrary: fc.constant('*'), weight: 1 },
    { arbitrary: fc.constant('**'), weight: 2 },
  );
const patternArb = (max: number, words = word) =>
  fc.array(patternSegment(words), { minLength: 1, maxLength: max }).map((s) => s.join('.'));

describe('the reference matcher and the trie agree with the spec examples', () => {
  it.each([
    ['task.**', ['task', 'task.a', 'task.a.b'], ['tasks', 'x.task', 'x.task.a']],
    ['**.failed', ['failed', 'job.failed', 'a.b.failed'], ['failed.job', 'job.failed.x']],
    ['**', ['a', 'a.b', 'x.y.z.w'], []],
    ['a.**.z', ['a.z', 'a.b.z', 'a.b.c.z'], ['a', 'z', 'a.z.b', 'b.a.z']],
    ['task.*', ['task.created', 'task.x'], ['task', 'task.created.x']],
    ['task.*.x', ['task.created.x'], ['task.created', 'task.x']],
    ['**.**', ['a', 'a.b.c'], []],
    ['#', ['#'], ['a', 'a.b']],
    ['$.>', ['$.>'], ['$.a', 'a.>']],
  ])('%s matches %j and not %j', (pattern, yes, no) => {
    const trie = new PatternTrie<Member>();
    trie.add(parsePattern(pattern), member(1, pattern));
    for (const type of yes) {
      expect(referenceMatches(pattern, type), `${pattern} ~ ${type}`).toBe(true);
      expect(matchNames(trie, type), `${pattern} ~ ${type}`).toEqual([pattern]);
    }
    for (const type of no) {
      expect(referenceMatches(pattern, type), `${pattern} !~ ${type}`).toBe(false);
      expect(matchNames(trie, type), `${pattern} !~ ${type}`).toEqual([]);
    }
  });
});

describe.each([
  ['a, b, c', word, 10],
  ['words of several lengths, more than a node scans', wideWord, 40],
])('PatternTrie.match and matchType against the reference matcher (property; words %s)', (_, words, most) => {
  // Members listen on 1–3 patterns, are added in a random order, then a random subset leaves.
  const scenario = fc
    .array(fc.array(patternArb(5, words), { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: most })
    .chain((patterns) =>
      fc.record({
        patterns: fc.constant(patterns),
        order: fc.shuffledSubarray([...patterns.keys()], { minLength: patterns.length }),
        leaving: fc.array(fc.boolean(), { minLength: patterns.length, maxLength: patterns.length }),
        types: fc.array(typeArb(5, words), { minLength: 1, maxLength: 10 }),
      }),
    );

  it('returns every matching member once, in seq order, before and after removals', () => {
    fc.assert(
      fc.property(scenario, ({ patterns, order, leaving, types }) => {
        const members = patterns.map((sources, seq) => ({ ...member(seq), sources }));
        const expected = (live: typeof members, type: string) =>
          live.filter((m) => m.sources.some((p) => referenceMatches(p, type))).map((m) => m.seq);
        const seqs = (trie: PatternTrie<Member>, type: string) => matchBoth(trie, type).map((m) => m.seq);

        const trie = new PatternTrie<Member>();
        for (const i of order) for (const p of members[i]!.sources) trie.add(parsePattern(p), members[i]!);
        for (const type of types) expect(seqs(trie, type), type).toEqual(expected(members, type));

        for (const m of members.filter((_, i) => leaving[i])) {
          for (const p of m.sources) expect(trie.remove(parsePattern(p), m)).toBe(true);
        }
        const live = members.filter((_, i) => !leaving[i]);
        for (const type of types) expect(seqs(trie, type), type).toEqual(expected(live, type));
        expect(trie.size).toBe(live.reduce((n, m) => n + m.sources.length, 0));
      }),
      { numRuns: 500 },
    );
  });
});

describe('PatternTrie details', () => {
  it('returns a member once when several of its patterns match', () => {
    const trie = new PatternTrie<Member>();
    const both = member(1);
    for (const p of ['a.*', '**', 'a.b', '**.b']) trie.add(parsePattern(p), both);
    expect(matchNames(trie, 'a.b')).toEqual(['m1']);
    expect(matchNames(trie, 'a.b')).toEqual(['m1']); // the stamp is fresh on every call
  });

  it('orders members by seq, not by pattern or insertion order', () => {
    const trie = new PatternTrie<Member>();
    trie.add(parsePattern('**'), member(3));
    trie.add(parsePattern('a.b'), member(1));
    trie.add(parsePattern('a.*'), member(2));
    expect(matchNames(trie, 'a.b')).toEqual(['m1', 'm2', 'm3']);
  });

  it('removes one (pattern, member) pair and keeps the member under its other pattern', () => {
    const trie = new PatternTrie<Member>();
    const m = member(1);
    trie.add(parsePattern('task.*'), m);
    trie.add(parsePattern('**.failed'), m);
    expect(trie.remove(parsePattern('task.*'), m)).toBe(true);
    expect(matchNames(trie, 'task.created')).toEqual([]);
    expect(matchNames(trie, 'task.failed')).toEqual(['m1']);
    expect(trie.remove(parsePattern('task.*'), m)).toBe(false);
    expect(trie.remove(parsePattern('never.added'), m)).toBe(false);
  });

  it('matches types of the maximum 32 segments through several **', () => {
    const trie = new PatternTrie<Member>();
    trie.add(parsePattern('**.x'), member(1));
    trie.add(parsePattern('**.a.**'), member(2));
    const type = [...Array.from({ length: 31 }, () => 'a'), 'x'];
    expect(names(trie.match(type))).toEqual(['m1', 'm2']);
    expect(names(trie.matchType(type.join('.')))).toEqual(['m1', 'm2']);
  });

  // Regression: the visited key was node.id * 64 + position, which collided past 64 segments
  // (unreachable through SubscriptionIndex, which caps types at 32, but match() accepts any length).
  it('matches a type longer than 64 segments (no visited-key collision)', () => {
    const trie = new PatternTrie<Member>();
    trie.add(parsePattern('**.x'), member(1));
    trie.add(parsePattern('**.a.**'), member(2));
    const type = [...Array.from({ length: 64 }, () => 'a'), 'x'];
    expect(names(trie.match(type))).toEqual(['m1', 'm2']);
    // Past the 64 segment starts matchType records, it falls back to the split walk.
    expect(names(trie.matchType(type.join('.')))).toEqual(['m1', 'm2']);
  });
});
