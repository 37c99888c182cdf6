import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parsePattern } from '../../src/pattern/parse.js';
import { type IndexedMember, SubscriptionIndex } from '../../src/pattern/subscription-index.js';
import { referenceMatches } from './reference-matcher.js';

interface Sub extends IndexedMember {
  readonly sources: readonly string[];
}

let nextSeq = 1;
function sub(...sources: string[]): Sub {
  return { seq: nextSeq++, matchStamp: 0, sources, patterns: sources.map(parsePattern) };
}
const seqs = (members: readonly Sub[] | undefined) => members?.map((m) => m.seq);

const word = fc.constantFrom('a', 'b', 'c');
const typeArb = fc.array(word, { minLength: 1, maxLength: 4 }).map((s) => s.join('.'));
const patternArb = fc
  .array(fc.oneof({ arbitrary: word, weight: 4 }, fc.constant('*'), fc.constant('**')), {
    minLength: 1,
    maxLength: 4,
  })
  .map((s) => s.join('.'));
const invalidTypes = ['', 'a..b', '.a', 'a.', 'a.*', '**', 'a\nb', 'a\u0000', 'x'.repeat(257)];

type Op =
  | { kind: 'add'; sources: string[] }
  | { kind: 'remove'; pick: number }
  | { kind: 'lookup'; type: string };
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('add'), sources: fc.array(patternArb, { minLength: 1, maxLength: 3 }) }), weight: 3 },
  { arbitrary: fc.record({ kind: fc.constant('remove'), pick: fc.nat() }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant('lookup'), type: typeArb }), weight: 5 },
  { arbitrary: fc.record({ kind: fc.constant('lookup'), type: fc.constantFrom(...invalidTypes) }), weight: 1 },
); // biome-ignore format: one operation kind per line

describe('SubscriptionIndex against a brute-force model (property)', () => {
  it('returns, for every lookup, the live members whose patterns match, in seq order', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 80 }), fc.integer({ min: 1, max: 4 }), (ops, cacheSize) => {
        const index = new SubscriptionIndex<Sub>(cacheSize);
        const live: Sub[] = [];
        for (const op of ops) {
          if (op.kind === 'add') {
            const member = sub(...op.sources);
            index.add(member);
            live.push(member);
          } else if (op.kind === 'remove') {
            if (live.length === 0) continue;
            const [member] = live.splice(op.pick % live.length, 1);
            index.remove(member!);
          } else if (invalidTypes.includes(op.type)) {
            expect(index.lookup(op.type)).toBeUndefined();
          } else {
            const expected = live.filter((m) => m.sources.some((p) => referenceMatches(p, op.type)));
            expect(seqs(index.lookup(op.type)?.members), op.type).toEqual(seqs(expected));
          }
          expect(index.size).toBe(live.length);
          expect(index.cachedTypes).toBeLessThanOrEqual(cacheSize);
        }
      }),
      { numRuns: 1000 },
    );
  });
});

describe('SubscriptionIndex', () => {
  it.each(invalidTypes)('returns undefined for the invalid type %j and caches nothing', (type) => {
    const index = new SubscriptionIndex<Sub>();
    index.add(sub('**'));
    expect(index.lookup(type)).toBeUndefined();
    expect(index.cachedTypes).toBe(0);
  });

  it('returns the same entry object for a cached type', () => {
    const index = new SubscriptionIndex<Sub>();
    const entry = index.lookup('task.created');
    expect(entry?.type).toBe('task.created');
    expect(index.lookup('task.created')).toBe(entry);
    // Split only once a subscriber arriving later has to be checked against the cached type.
    expect(entry?.segments).toBeUndefined();
    index.add(sub('task.*'));
    expect(entry?.segments).toEqual(['task', 'created']);
    expect(entry?.members).toHaveLength(1);
  });

  it('patches a cached entry in place when a literal or a wildcard subscriber arrives', () => {
    const index = new SubscriptionIndex<Sub>();
    const first = sub('task.*');
    index.add(first);
    const entry = index.lookup('task.created')!;
    const other = index.lookup('task.updated')!;
    const literal = sub('task.created');
    const wildcard = sub('**.created');
    index.add(literal);
    index.add(wildcard);
    index.add(sub('job.created', 'task.deleted'));
    expect(index.lookup('task.created')).toBe(entry);
    expect(entry.members).toEqual([first, literal, wildcard]);
    expect(other.members).toEqual([first]);
  });

  it('swaps in a new members array on removal, leaving a snapshot taken before it intact', () => {
    const index = new SubscriptionIndex<Sub>();
    const [a, b, c] = [sub('task.*'), sub('task.created'), sub('**')];
    for (const m of [a, b, c]) index.add(m);
    const entry = index.lookup('task.created')!;
    const snapshot = entry.members;
    index.remove(b);
    index.remove(c);
    expect(index.lookup('task.created')).toBe(entry);
    expect(entry.members).toEqual([a]);
    expect(snapshot).toEqual([a, b, c]);
  });

  it('lists a member with two matching patterns once, and drops it entirely on removal', () => {
    const index = new SubscriptionIndex<Sub>();
    const both = sub('task.created', 'task.*', 'task.created');
    index.add(both);
    expect(index.size).toBe(1);
    expect(index.lookup('task.created')!.members).toEqual([both]);
    index.remove(both);
    index.remove(both); // a second removal is a no-op
    expect(index.size).toBe(0);
    expect(index.lookup('task.created')!.members).toEqual([]);
  });

  it('keeps at most maxCachedTypes entries, evicting the oldest first', () => {
    const index = new SubscriptionIndex<Sub>(4);
    const firstEntry = index.lookup('t.0');
    for (let i = 1; i < 100; i++) index.lookup(`t.${i}`);
    expect(index.cachedTypes).toBe(4);
    expect(index.lookup('t.99')).toBe(index.lookup('t.99'));
    expect(index.lookup('t.0')).not.toBe(firstEntry);
  });
});

describe('SubscriptionIndex removal by remembered trie slots', () => {
  it('removes the right members after sweeps pruned the emptied parts of the trie', () => {
    const index = new SubscriptionIndex<Sub>();
    const lasting = ['a.b', 'a.*', '**', 'a.**.z', 'x.y.z', 'a.b'].map((p) => sub(p));
    const twoPatterns = sub('p.q', 'p.*');
    for (const m of [...lasting, twoPatterns]) index.add(m);
    // 5,000 one-off patterns, subscribed and removed: emptied nodes pile up and get swept.
    for (let i = 0; i < 5000; i++) {
      const m = sub(`churn${i}.a`, `a.churn${i}`);
      index.add(m);
      index.remove(m);
    }
    expect(index.trieNodes).toBeLessThan(5000); // swept: 20,000 nodes were created
    expect(seqs(index.lookup('a.b')?.members)).toEqual(
      seqs([lasting[0]!, lasting[1]!, lasting[2]!, lasting[5]!]),
    );
    index.remove(lasting[1]!);
    index.remove(lasting[1]!); // a second removal changes nothing
    expect(seqs(index.lookup('a.b')?.members)).toEqual(seqs([lasting[0]!, lasting[2]!, lasting[5]!]));
    expect(seqs(index.lookup('p.q')?.members)).toEqual(seqs([lasting[2]!, twoPatterns]));
    index.remove(twoPatterns);
    expect(seqs(index.lookup('p.q')?.members)).toEqual(seqs([lasting[2]!]));
    expect(seqs(index.lookup('p.x')?.members)).toEqual(seqs([lasting[2]!]));
    for (const m of lasting) index.remove(m);
    expect(index.size).toBe(0);
    expect(index.lookup('a.b')?.members).toEqual([]);
  });
});

describe('SubscriptionIndex repeated lookups of one type', () => {
  it('sees subscribes and unsubscribes between two lookups of the same type, and evictions', () => {
    const index = new SubscriptionIndex<Sub>(1);
    const first = sub('a.*');
    index.add(first);
    expect(seqs(index.lookup('a.b')?.members)).toEqual(seqs([first]));
    const second = sub('a.b');
    index.add(second);
    expect(seqs(index.lookup('a.b')?.members)).toEqual(seqs([first, second]));
    index.remove(first);
    expect(seqs(index.lookup('a.b')?.members)).toEqual(seqs([second]));
    expect(seqs(index.lookup('a.c')?.members)).toEqual([]); // evicts a.b (cache of one)
    const third = sub('a.b');
    index.add(third);
    expect(seqs(index.lookup('a.b')?.members)).toEqual(seqs([second, third]));
    expect(index.lookup('a..b')).toBeUndefined();
    expect(seqs(index.lookup('a.b')?.members)).toEqual(seqs([second, third]));
  });
});
