import { GLOBSTAR, STAR } from '../../pattern/limits.js';
import { parsePattern } from '../../pattern/parse.js';

/**
 * One trie node as the claim script reads it: literal children (segment → node), the `*`
 * child and the `**` child (node numbers, 0 for none), whether a pattern ends here, and whether
 * the node is a `**` itself (it takes any further segment and stays). Nodes are numbered from 1
 * (Lua's first index), the root first.
 */
type Node = [literals: Record<string, number>, star: number, globstar: number, end: 0 | 1, isGlobstar: 0 | 1];

/**
 * A consumer group's patterns compiled once per group (in this process), as JSON the claim
 * script decodes with cjson in one C call instead of splitting every pattern in Lua on every
 * claim. A trie: testing an event type walks its segments once, with the set of nodes it may be
 * at, instead of trying each pattern in turn, so the cost of a new type grows with its segments
 * and the trie's branching, not with the number of patterns (group-lua.ts, MATCHER).
 */
export function compileGroupMatcher(patterns: readonly string[]): string {
  // Null-prototype maps: a segment named `__proto__` is a key like any other.
  const literals = (): Record<string, number> => Object.create(null) as Record<string, number>;
  const nodes: Node[] = [[literals(), 0, 0, 0, 0]];
  const add = (globstar: 0 | 1): number => {
    nodes.push([literals(), 0, 0, 0, globstar]);
    return nodes.length;
  };
  for (const source of patterns) {
    let at = 1;
    let previous: string | undefined;
    for (const segment of parsePattern(source).segments) {
      // `**.**` is `**` (parsePattern collapses them already; the trie relies on it).
      if (segment === GLOBSTAR && previous === GLOBSTAR) continue;
      previous = segment;
      const node = nodes[at - 1]!;
      if (segment === GLOBSTAR) at = node[2] || (node[2] = add(1));
      else if (segment === STAR) at = node[1] || (node[1] = add(0));
      else at = Object.hasOwn(node[0], segment) ? node[0][segment]! : (node[0][segment] = add(0));
    }
    nodes[at - 1]![3] = 1;
  }
  return JSON.stringify(nodes);
}
