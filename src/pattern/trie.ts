import { GLOBSTAR, SEPARATOR, STAR } from './limits.js';
import type { ParsedPattern } from './parse.js';

/** What the trie stores: anything with a creation sequence number (delivery order). */
export interface TrieMember {
  readonly seq: number;
  /** Scratch field the trie uses to collect each member once per match. */
  matchStamp: number;
}

/** Where a (pattern, member) pair is stored: opaque, returned by `add`, taken by `removeAt`. */
export type TrieSlot = object & { readonly __trieSlot?: never };

/** Up to this many literal children a node is searched by comparing characters in place (no substring). */
const SCANNED_CHILDREN = 8;

class TrieNode<M extends TrieMember> {
  children: Map<string, TrieNode<M>> | null = null;
  /** The same children as `children`, as parallel arrays while there are few (see SCANNED_CHILDREN). */
  childWords: string[] = [];
  childNodes: TrieNode<M>[] = [];
  star: TrieNode<M> | null = null;
  globstar: TrieNode<M> | null = null;
  members: M[] = [];
  /** Counted in PatternTrie's emptied total: lost its last member and has not gained one since. */
  emptied = false;
  /** Positions 0–31 and 32–63 at which this node was visited during the match numbered `seenStamp`. */
  seenStamp = 0;
  seenLow = 0;
  seenHigh = 0;
  /** Set on nodes at or below a `**` edge: only there can one (node, position) be reached twice. */
  readonly belowGlobstar: boolean;
  readonly id: number;

  constructor(id: number, belowGlobstar: boolean) {
    this.id = id;
    this.belowGlobstar = belowGlobstar;
  }

  isEmpty(): boolean {
    return (
      this.members.length === 0 && this.children === null && this.star === null && this.globstar === null
    );
  }
}

/**
 * Subscription trie over dot-separated segments, in the manner of NATS's sublist: one edge
 * per literal word, one `*` edge and one `**` edge per node. Matching walks only the branches
 * a type can take, so its cost depends on the type and the matching branches, not on how many
 * patterns are subscribed.
 *
 * Emptied nodes are not pruned on every removal (V8 Map churn on a big map costs ~16 µs per
 * delete+insert); they are swept in one pass once they outnumber the live members.
 */
export class PatternTrie<M extends TrieMember> {
  #root: TrieNode<M>;
  #nextNodeId = 1;
  #nodes = 1;
  /** Nodes whose members were all removed and not replaced: a churning pattern counts at most once. */
  #emptied = 0;
  #stamp = 0;
  #size = 0;
  /** (node, position) pairs seen during one match below a `**`; reused to spare an allocation. */
  #visited = new Set<number>();
  /**
   * Where each segment of the type being matched starts, plus one past the end: segment i is
   * type[starts[i], starts[i + 1] - 1). Reused by every `matchType`.
   */
  #starts = new Int32Array(STARTS_CAPACITY);

  constructor() {
    this.#root = new TrieNode<M>(0, false);
  }

  /** Number of (pattern, member) pairs stored. */
  get size(): number {
    return this.#size;
  }

  /** Number of nodes, including emptied ones not yet swept. For tests and stats. */
  get nodeCount(): number {
    return this.#nodes;
  }

  /**
   * Stores one (pattern, member) pair. Returns the pattern's node: pass it to `removeAt` to
   * remove the pair without walking the trie again (a node is never pruned while it has members).
   */
  add(pattern: ParsedPattern, member: M): TrieSlot {
    let node = this.#root;
    const { segments } = pattern;
    for (let i = 0; i < segments.length; i++) node = this.#childFor(node, segments[i]!);
    node.members.push(member);
    this.#size++;
    if (node.emptied) {
      node.emptied = false;
      this.#emptied--;
    }
    return node;
  }

  /** Removes one (pattern, member) pair; returns false when it was not there. */
  remove(pattern: ParsedPattern, member: M): boolean {
    let node: TrieNode<M> | null | undefined = this.#root;
    for (const segment of pattern.segments) {
      if (segment === GLOBSTAR) node = node.globstar;
      else if (segment === STAR) node = node.star;
      else node = node.children?.get(segment);
      if (!node) return false;
    }
    return this.removeAt(node, member);
  }

  /** Removes one (pattern, member) pair from the node `add` returned; false when it was not there. */
  removeAt(slot: TrieSlot, member: M): boolean {
    const node = slot as TrieNode<M>;
    const members = node.members;
    const index = members.indexOf(member);
    if (index < 0) return false;
    // In place: match() copies members out, so nothing iterates this array across a removal.
    // A shift and a pop, not splice(), which allocates the array of removed elements.
    for (let i = index + 1; i < members.length; i++) members[i - 1] = members[i]!;
    members.pop();
    this.#size--;
    if (node.members.length === 0 && !node.emptied) {
      node.emptied = true;
      // Amortized: a sweep visits every node, and runs once the emptied outnumber the live members.
      if (++this.#emptied > Math.max(1024, this.#size)) this.#sweep();
    }
    return true;
  }

  /** Every member whose pattern matches the type, each once, in `seq` order. */
  match(typeSegments: readonly string[]): M[] {
    const out: M[] = [];
    const stamp = ++this.#stamp;
    if (this.#visited.size > 0) this.#visited.clear();
    this.#visit(this.#root, typeSegments, 0, out, stamp, this.#visited);
    if (out.length > 1) out.sort(bySeq);
    return out;
  }

  /**
   * `match(type.split('.'))` without the split: the walk reads the type's segments in place,
   * comparing characters, so a match allocates nothing but its result.
   */
  matchType(type: string): M[] {
    const starts = this.#starts;
    let count = 0;
    starts[0] = 0;
    for (let i = type.indexOf(SEPARATOR); i !== -1; i = type.indexOf(SEPARATOR, i + 1)) {
      // More segments than any valid type has (32): the plain walk takes it.
      if (++count >= STARTS_CAPACITY - 1) return this.match(type.split(SEPARATOR));
      starts[count] = i + 1;
    }
    starts[++count] = type.length + 1;
    const out: M[] = [];
    const stamp = ++this.#stamp;
    if (this.#visited.size > 0) this.#visited.clear();
    this.#visitType(this.#root, type, count, 0, out, stamp);
    if (out.length > 1) out.sort(bySeq);
    return out;
  }

  /** Calls `fn` once per stored (pattern, member) pair; for stats, not the hot path. */
  forEach(fn: (member: M) => void): void {
    const stack = [this.#root];
    for (let node = stack.pop(); node; node = stack.pop()) {
      for (const member of node.members) fn(member);
      if (node.children) for (const child of node.children.values()) stack.push(child);
      if (node.star) stack.push(node.star);
      if (node.globstar) stack.push(node.globstar);
    }
  }

  #visit(
    node: TrieNode<M>,
    type: readonly string[],
    i: number,
    out: M[],
    stamp: number,
    visited: Set<number>,
  ) {
    // Several `**` can lead to the same (node, position); walking it twice would only repeat work.
    if (node.belowGlobstar && this.#visitedBefore(node, i, type.length, stamp, visited)) return;
    if (i === type.length) {
      collect(node.members, out, stamp);
      if (node.globstar) this.#visit(node.globstar, type, i, out, stamp, visited);
      return;
    }
    const child = node.children?.get(type[i]!);
    if (child) this.#visit(child, type, i + 1, out, stamp, visited);
    if (node.star) this.#visit(node.star, type, i + 1, out, stamp, visited);
    const globstar = node.globstar;
    if (globstar) {
      // A trailing `**` (nothing below it) matches whatever is left: no need to try each split.
      if (isLeaf(globstar)) collect(globstar.members, out, stamp);
      // `**` consumes type[i..j-1] for every j, zero segments included.
      else for (let j = i; j <= type.length; j++) this.#visit(globstar, type, j, out, stamp, visited);
    }
  }

  /** `#visit` for `matchType`: segment i of `type` is located by `#starts`. */
  #visitType(node: TrieNode<M>, type: string, count: number, i: number, out: M[], stamp: number) {
    if (node.belowGlobstar && this.#visitedBefore(node, i, count, stamp, this.#visited)) return;
    if (i === count) {
      collect(node.members, out, stamp);
      if (node.globstar) this.#visitType(node.globstar, type, count, i, out, stamp);
      return;
    }
    if (node.children !== null) {
      const start = this.#starts[i]!;
      const end = this.#starts[i + 1]! - 1;
      const child = childAt(node, type, start, end);
      if (child !== undefined) this.#visitType(child, type, count, i + 1, out, stamp);
    }
    if (node.star) this.#visitType(node.star, type, count, i + 1, out, stamp);
    const globstar = node.globstar;
    if (globstar) {
      if (isLeaf(globstar)) collect(globstar.members, out, stamp);
      else for (let j = i; j <= count; j++) this.#visitType(globstar, type, count, j, out, stamp);
    }
  }

  /**
   * Marks (node, position) as visited in this match; true if it already was. Bit masks
   * stamped with the match number cost no allocation and no clearing; only types longer
   * than 64 segments (possible when the trie is used directly) fall back to the Set.
   */
  #visitedBefore(node: TrieNode<M>, i: number, length: number, stamp: number, visited: Set<number>): boolean {
    if (node.seenStamp !== stamp) {
      node.seenStamp = stamp;
      node.seenLow = 0;
      node.seenHigh = 0;
    }
    if (i < 32) {
      const bit = 1 << i;
      if (node.seenLow & bit) return true;
      node.seenLow |= bit;
      return false;
    }
    if (i < 64) {
      const bit = 1 << (i - 32);
      if (node.seenHigh & bit) return true;
      node.seenHigh |= bit;
      return false;
    }
    const key = node.id * (length + 1) + i;
    if (visited.has(key)) return true;
    visited.add(key);
    return false;
  }

  #childFor(node: TrieNode<M>, segment: string): TrieNode<M> {
    if (segment === GLOBSTAR) return (node.globstar ??= this.#newNode(true));
    if (segment === STAR) return (node.star ??= this.#newNode(node.belowGlobstar));
    node.children ??= new Map();
    let child = node.children.get(segment);
    if (!child) {
      child = this.#newNode(node.belowGlobstar);
      node.children.set(segment, child);
      node.childWords.push(segment);
      node.childNodes.push(child);
    }
    return child;
  }

  #newNode(belowGlobstar: boolean): TrieNode<M> {
    this.#nodes++;
    return new TrieNode<M>(this.#nextNodeId++, belowGlobstar);
  }

  /** Drops every empty subtree in one pass. */
  #sweep(): void {
    this.#emptied = 0;
    this.#nodes = 1 + this.#prune(this.#root);
  }

  /** Prunes empty descendants of `node`; returns how many descendants are kept. */
  #prune(node: TrieNode<M>): number {
    node.emptied = false; // the sweep restarts the count
    let kept = 0;
    if (node.children) {
      node.childWords = [];
      node.childNodes = [];
      for (const [segment, child] of node.children) {
        const below = this.#prune(child);
        if (child.isEmpty()) node.children.delete(segment);
        else {
          kept += 1 + below;
          node.childWords.push(segment);
          node.childNodes.push(child);
        }
      }
      if (node.children.size === 0) node.children = null;
    }
    if (node.star) {
      const below = this.#prune(node.star);
      if (node.star.isEmpty()) node.star = null;
      else kept += 1 + below;
    }
    if (node.globstar) {
      const below = this.#prune(node.globstar);
      if (node.globstar.isEmpty()) node.globstar = null;
      else kept += 1 + below;
    }
    return kept;
  }
}

/** One past the most segment starts `matchType` records: a valid type has at most 32 segments. */
const STARTS_CAPACITY = 66;

/** The literal child of `node` for the word type[start, end), found without cutting it out while the node has few. */
function childAt<M extends TrieMember>(
  node: TrieNode<M>,
  type: string,
  start: number,
  end: number,
): TrieNode<M> | undefined {
  const words = node.childWords;
  if (words.length > SCANNED_CHILDREN) return node.children!.get(type.slice(start, end));
  const length = end - start;
  next: for (let w = 0; w < words.length; w++) {
    const word = words[w]!;
    if (word.length !== length) continue;
    for (let k = 0; k < length; k++) if (word.charCodeAt(k) !== type.charCodeAt(start + k)) continue next;
    return node.childNodes[w];
  }
  return undefined;
}

function isLeaf<M extends TrieMember>(node: TrieNode<M>): boolean {
  return node.children === null && node.star === null && node.globstar === null;
}

function collect<M extends TrieMember>(members: readonly M[], out: M[], stamp: number): void {
  for (const member of members) {
    if (member.matchStamp === stamp) continue;
    member.matchStamp = stamp;
    out.push(member);
  }
}

function bySeq(a: TrieMember, b: TrieMember): number {
  return a.seq - b.seq;
}
