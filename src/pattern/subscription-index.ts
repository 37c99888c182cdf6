import { eventTypeProblem } from './event-type.js';
import { SEPARATOR } from './limits.js';
import type { ParsedPattern } from './parse.js';
import { segmentsMatch } from './segments-match.js';
import { PatternTrie, type TrieMember, type TrieSlot } from './trie.js';

/** A subscriber as the index sees it: a delivery order and the patterns it listens on. */
export interface IndexedMember extends TrieMember {
  readonly patterns: readonly ParsedPattern[];
  /**
   * Scratch field the index keeps while the member is added: where each pattern sits in the
   * trie (one slot, or one per pattern), so removing it walks nothing.
   */
  trieSlots?: TrieSlot | TrieSlot[] | undefined;
}

/** The subscribers of one event type, in delivery order. */
export interface MatchEntry<M> {
  readonly type: string;
  /** `type` split at its dots, made on first need (a subscribe checking the cached types). */
  segments: readonly string[] | undefined;
  /**
   * Appended to in place (a dispatch in progress reads only up to the length it started with),
   * replaced on removal (so that dispatch keeps its snapshot).
   */
  members: M[];
}

/** Default bound of the per-type match cache. */
export const DEFAULT_MATCH_CACHE_SIZE = 1024;

/**
 * The subscription trie plus a bounded cache of "type → subscribers". A publish of a known
 * type costs one Map lookup however many patterns exist. Subscribing or unsubscribing patches
 * only the cached entries the pattern matches (a literal pattern touches at most one), so
 * churn never turns into a rebuild.
 */
export class SubscriptionIndex<M extends IndexedMember> {
  readonly #trie = new PatternTrie<M>();
  readonly #cache = new Map<string, MatchEntry<M>>();
  readonly #maxCached: number;
  #members = 0;
  /** The last type looked up and its entry (always a cached one, so subscribe and unsubscribe keep it current). */
  #lastType: string | undefined;
  #lastEntry: MatchEntry<M> | undefined;

  constructor(maxCachedTypes: number = DEFAULT_MATCH_CACHE_SIZE) {
    this.#maxCached = maxCachedTypes;
  }

  /** Number of subscribers (a multi-pattern subscriber counts once). */
  get size(): number {
    return this.#members;
  }

  get cachedTypes(): number {
    return this.#cache.size;
  }

  get trieNodes(): number {
    return this.#trie.nodeCount;
  }

  add(member: M): void {
    const { patterns } = member;
    member.trieSlots =
      patterns.length === 1
        ? this.#trie.add(patterns[0]!, member)
        : patterns.map((pattern) => this.#trie.add(pattern, member));
    this.#members++;
    // `member` is the newest subscriber, so appending keeps every entry in delivery order.
    if (isLiteralOnly(member)) {
      for (const pattern of member.patterns) {
        const entry = this.#cache.get(pattern.source);
        if (entry && entry.members[entry.members.length - 1] !== member) entry.members.push(member);
      }
      return;
    }
    for (const entry of this.#cache.values()) {
      if (matchesAny(member, entry)) entry.members.push(member);
    }
  }

  remove(member: M): void {
    const slots = member.trieSlots;
    if (slots === undefined) return; // never added, or removed already
    member.trieSlots = undefined;
    let removed = false;
    if (Array.isArray(slots))
      for (const slot of slots) removed = this.#trie.removeAt(slot, member) || removed;
    else removed = this.#trie.removeAt(slots, member);
    if (!removed) return;
    this.#members--;
    if (isLiteralOnly(member)) {
      for (const pattern of member.patterns) {
        const entry = this.#cache.get(pattern.source);
        if (entry) withoutMember(entry, member);
      }
      return;
    }
    for (const entry of this.#cache.values()) withoutMember(entry, member);
  }

  /**
   * The subscribers of `type`, or `undefined` when `type` is not a valid event type
   * (`eventTypeProblem` says why). Types are validated on first sight: a cached type is a valid one.
   */
  lookup(type: string): MatchEntry<M> | undefined {
    // A publish looks its type up twice (validation, then delivery), and streams of one type are common.
    if (type === this.#lastType) return this.#lastEntry;
    const cached = this.#cache.get(type);
    if (cached !== undefined) {
      this.#lastType = type;
      this.#lastEntry = cached;
      return cached;
    }
    if (eventTypeProblem(type) !== undefined) return undefined;
    const entry: MatchEntry<M> = { type, segments: undefined, members: this.#trie.matchType(type) };
    if (this.#cache.size >= this.#maxCached) {
      // Oldest inserted goes first: a cheap approximation of LRU that never reorders the Map.
      this.#cache.delete(this.#cache.keys().next().value as string);
    }
    this.#cache.set(type, entry);
    this.#lastType = type;
    this.#lastEntry = entry;
    return entry;
  }

  /** Visits every subscriber once per pattern (for stats). */
  forEach(fn: (member: M) => void): void {
    this.#trie.forEach(fn);
  }
}

function isLiteralOnly(member: IndexedMember): boolean {
  for (const pattern of member.patterns) if (!pattern.isLiteral) return false;
  return true;
}

function matchesAny(member: IndexedMember, entry: MatchEntry<unknown>): boolean {
  entry.segments ??= entry.type.split(SEPARATOR);
  for (const pattern of member.patterns) if (segmentsMatch(pattern.segments, entry.segments)) return true;
  return false;
}

/** Copy on write, so a dispatch iterating the old array keeps its snapshot. */
function withoutMember<M>(entry: MatchEntry<M>, member: M): void {
  const index = entry.members.indexOf(member);
  if (index < 0) return;
  const next = entry.members.slice(0, index);
  for (let i = index + 1; i < entry.members.length; i++) next.push(entry.members[i]!);
  entry.members = next;
}
