import { InvalidEventError } from '../errors.js';
import { describe } from '../event.js';
import { SEPARATOR } from './limits.js';
import { type ParsedPattern, parsePatterns } from './parse.js';
import { segmentsMatch } from './segments-match.js';

const VERDICT_CACHE_SIZE = 1024;

/**
 * Tests event types against a fixed set of patterns, with the bus's matching rules. For
 * store adapters that filter `read({ types })` in memory: the verdict per type is cached, so
 * scanning thousands of events of a few types costs a Map lookup each.
 */
export class TypeMatcher {
  readonly patterns: readonly ParsedPattern[];
  readonly #verdicts = new Map<string, boolean>();

  /** @throws InvalidPatternError for a malformed pattern. */
  constructor(patterns: readonly string[]) {
    this.patterns = parsePatterns(patterns);
  }

  /** @throws InvalidEventError when `type` is not a string */
  matches(type: string): boolean {
    const cached = this.#verdicts.get(type);
    if (cached !== undefined) return cached;
    if (typeof type !== 'string')
      throw new InvalidEventError(`Expected the event type to be a string, got ${describe(type)}`);
    const segments = type.split(SEPARATOR);
    const verdict = this.patterns.some((p) => segmentsMatch(p.segments, segments));
    if (this.#verdicts.size >= VERDICT_CACHE_SIZE) this.#verdicts.clear();
    this.#verdicts.set(type, verdict);
    return verdict;
  }
}
