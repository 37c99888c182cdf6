import { InvalidPatternError } from '../errors.js';
import { describe } from '../event.js';
import { GLOBSTAR, hasControlCharacter, PATTERN_LIMITS, SEPARATOR, STAR } from './limits.js';

/** A validated pattern, split into segments, with consecutive `**` collapsed into one. */
export interface ParsedPattern {
  /** The pattern as the user wrote it (used for stats and errors). */
  readonly source: string;
  readonly segments: readonly string[];
  /** True when the pattern has no `*` or `**`: it matches exactly one event type. */
  readonly isLiteral: boolean;
}

/**
 * Validates and splits a pattern. `*` matches one segment, `**` zero or more; every other
 * segment is literal (including `$`, `#`, `+`, `>`). No regular expression is ever built.
 * @throws InvalidPatternError for `task*`, `a..b`, empty strings, control characters or broken limits.
 */
export function parsePattern(pattern: unknown): ParsedPattern {
  if (typeof pattern === 'string') {
    const cached = parsed.get(pattern);
    if (cached !== undefined) return cached;
  }
  const result = parseUncached(pattern);
  if (parsed.size >= PARSE_CACHE_SIZE) parsed.clear();
  parsed.set(result.source, result);
  return result;
}

/**
 * Parsed patterns are immutable, and services subscribe the same few patterns over and
 * over (one per connection): parsing each once takes a third off a subscribe/unsubscribe.
 */
const PARSE_CACHE_SIZE = 1024;
const parsed = new Map<string, ParsedPattern>();

function parseUncached(pattern: unknown): ParsedPattern {
  if (typeof pattern !== 'string') {
    const shown =
      pattern === null || typeof pattern === 'object' ? `(${describe(pattern)})` : String(pattern);
    throw new InvalidPatternError(shown, `expected a string, got ${typeof pattern}`);
  }
  if (pattern.length === 0) throw new InvalidPatternError(pattern, 'expected at least one character');
  if (pattern.length > PATTERN_LIMITS.maxLength) {
    throw new InvalidPatternError(
      pattern.slice(0, 32) + '…',
      `expected at most ${PATTERN_LIMITS.maxLength} characters, got ${pattern.length}`,
    );
  }
  if (hasControlCharacter(pattern))
    throw new InvalidPatternError(pattern, 'control characters are not allowed');
  const raw = pattern.split(SEPARATOR);
  if (raw.length > PATTERN_LIMITS.maxSegments) {
    throw new InvalidPatternError(
      pattern,
      `expected at most ${PATTERN_LIMITS.maxSegments} segments, got ${raw.length}`,
    );
  }
  const segments: string[] = [];
  let isLiteral = true;
  for (const segment of raw) {
    if (segment === '')
      throw new InvalidPatternError(pattern, 'expected a word between dots, got an empty segment');
    if (segment === GLOBSTAR) {
      isLiteral = false;
      // `**.**` means the same as `**` (RabbitMQ: `#.#` ≡ `#`); one node keeps the trie walk linear.
      if (segments[segments.length - 1] !== GLOBSTAR) segments.push(segment);
      continue;
    }
    if (segment === STAR) {
      isLiteral = false;
    } else if (segment.includes(STAR)) {
      throw new InvalidPatternError(
        pattern,
        `expected a segment to be a word, "*" or "**", got "${segment}"`,
      );
    }
    segments.push(segment);
  }
  return Object.freeze({ source: pattern, segments: Object.freeze(segments), isLiteral });
}

/** Parses one pattern or a non-empty list of them (one subscription listening on all). */
export function parsePatterns(patterns: unknown): ParsedPattern[] {
  if (!Array.isArray(patterns)) return [parsePattern(patterns)];
  if (patterns.length === 0) throw new InvalidPatternError('[]', 'expected at least one pattern');
  if (patterns.length > PATTERN_LIMITS.maxPatternsPerSubscription) {
    throw new InvalidPatternError(
      `[${patterns.length} patterns]`,
      `expected at most ${PATTERN_LIMITS.maxPatternsPerSubscription} patterns in one subscription, got ${patterns.length}`,
    );
  }
  return patterns.map(parsePattern);
}
