import { describe, expect, it } from 'vitest';
import { parsePattern } from '../../src/pattern/parse.js';
import { PatternTrie } from '../../src/pattern/trie.js';

interface Member {
  seq: number;
  matchStamp: number;
}

const CHURN = 100_000;
/**
 * Far below CHURN: emptied nodes are swept once they outnumber the live members (with a floor
 * of 1,024), so with nothing left subscribed a trie of ≤ 3-segment patterns stays this small
 * however many patterns came and went.
 */
const BOUND = 10_000;

/** Adds and removes CHURN patterns one after another; returns the largest node count seen. */
function peakNodesWhileChurning(patternAt: (i: number) => string): {
  peak: number;
  trie: PatternTrie<Member>;
} {
  const trie = new PatternTrie<Member>();
  let peak = trie.nodeCount;
  for (let i = 0; i < CHURN; i++) {
    const pattern = parsePattern(patternAt(i));
    const member = { seq: i, matchStamp: 0 };
    trie.add(pattern, member);
    peak = Math.max(peak, trie.nodeCount);
    trie.remove(pattern, member);
  }
  expect(trie.size).toBe(0); // every removal found its pair
  return { peak, trie };
}

describe('PatternTrie node sweep', () => {
  it(`keeps nodeCount under ${BOUND} while ${CHURN} distinct task.<n> patterns come and go`, () => {
    const { peak } = peakNodesWhileChurning((i) => `task.${i}`);
    expect(peak).toBeLessThan(BOUND);
  });

  it(`never grows when one pattern is subscribed and unsubscribed ${CHURN} times`, () => {
    const trie = new PatternTrie<Member>();
    const pattern = parsePattern('a.**.b.*');
    const member = { seq: 1, matchStamp: 0 };
    trie.add(pattern, member);
    const settled = trie.nodeCount;
    let peak = settled;
    for (let i = 0; i < CHURN; i++) {
      trie.remove(pattern, member);
      trie.add(pattern, member);
      peak = Math.max(peak, trie.nodeCount);
    }
    expect(peak).toBe(settled);
    expect(trie.size).toBe(1);
    expect(trie.match(['a', 'b', 'c']).length).toBe(1);
  });

  it('keeps live patterns matchable across sweeps', () => {
    const trie = new PatternTrie<Member>();
    const keep = { seq: 0, matchStamp: 0 };
    trie.add(parsePattern('task.*'), keep);
    trie.add(parsePattern('task.7.**'), keep);
    // A literal that outlives the sweeps among thousands of siblings that come and go.
    const literal = { seq: 1_000_000, matchStamp: 0 };
    trie.add(parsePattern('task.123'), literal);
    for (let i = 0; i < 5_000; i++) {
      const member = { seq: i + 1, matchStamp: 0 };
      trie.add(parsePattern(`task.${i}`), member);
      trie.remove(parsePattern(`task.${i}`), member);
    }
    expect(trie.nodeCount).toBeLessThan(BOUND);
    expect(trie.match(['task', '7'])).toEqual([keep]);
    expect(trie.match(['task', '7', 'x', 'y'])).toEqual([keep]);
    // matchType reads the children the sweep rebuilt (a few now: scanned in place).
    expect(trie.matchType('task.7')).toEqual([keep]);
    expect(trie.matchType('task.7.x.y')).toEqual([keep]);
    expect(trie.matchType('task.123')).toEqual([keep, literal]);
    expect(trie.matchType('task.1234')).toEqual([keep]);
  });

  // Regression: with the first sweep threshold (emptied > nodes / 2) a pattern that adds two or
  // more fresh nodes but empties only one (op.<id>.**) never triggered a sweep: 200,002 nodes
  // after 100,000 churns. Fixed in 9d187ab (threshold counts live members instead).
  it(`keeps nodeCount under ${BOUND} while ${CHURN} distinct op.<id>.** patterns come and go`, () => {
    const { peak, trie } = peakNodesWhileChurning((i) => `op.${i}.**`);
    expect(trie.nodeCount).toBeLessThan(BOUND);
    expect(peak).toBeLessThan(BOUND);
  });

  // Same shape with the distinct part first: three fresh nodes per pattern, one emptied.
  it(`keeps nodeCount under ${BOUND} while ${CHURN} distinct <id>.created.by patterns come and go`, () => {
    const { peak } = peakNodesWhileChurning((i) => `s${i}.created.by`);
    expect(peak).toBeLessThan(BOUND);
  });
});
