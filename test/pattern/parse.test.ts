import { describe, expect, it } from 'vitest';
import { InvalidPatternError } from '../../src/errors.js';
import { PATTERN_LIMITS } from '../../src/pattern/limits.js';
import { parsePattern, parsePatterns } from '../../src/pattern/parse.js';

/** Runs `fn` and returns what it threw, failing the test when it did not throw. */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw, got none');
}

function expectInvalidPattern(value: unknown): InvalidPatternError {
  const error = thrown(() => parsePattern(value));
  expect(error).toBeInstanceOf(InvalidPatternError);
  const invalid = error as InvalidPatternError;
  expect(invalid.code).toBe('INVALID_PATTERN');
  expect(invalid.name).toBe('InvalidPatternError');
  return invalid;
}

const segmentsOf = (n: number) => Array.from({ length: n }, (_, i) => `s${i}`).join('.');

describe('parsePattern', () => {
  it.each([
    ['task', ['task'], true],
    ['task.created', ['task', 'created'], true],
    ['tool_start', ['tool_start'], true],
    ['task.*', ['task', '*'], false],
    ['*', ['*'], false],
    ['**', ['**'], false],
    ['task.**', ['task', '**'], false],
    ['**.failed', ['**', 'failed'], false],
    ['a.**.z', ['a', '**', 'z'], false],
    ['*.*.**', ['*', '*', '**'], false],
    ['ünïcode.名前', ['ünïcode', '名前'], true],
  ])('splits %j into %j (literal: %s)', (pattern, segments, isLiteral) => {
    expect(parsePattern(pattern)).toEqual({ source: pattern, segments, isLiteral });
  });

  it.each(['$', '#', '+', '>', 'a.#', '$.SYS.>', 'a.+.b'])(
    'treats %j as literal segments (only * and ** are wildcards)',
    (pattern) => {
      const parsed = parsePattern(pattern);
      expect(parsed.isLiteral).toBe(true);
      expect(parsed.segments).toEqual(pattern.split('.'));
    },
  );

  it.each([
    ['**.**', ['**']],
    ['**.**.**', ['**']],
    ['a.**.**.b', ['a', '**', 'b']],
    ['**.**.a.**.**', ['**', 'a', '**']],
  ])('collapses consecutive ** in %j into one', (pattern, segments) => {
    const parsed = parsePattern(pattern);
    expect(parsed.segments).toEqual(segments);
    expect(parsed.source).toBe(pattern);
  });

  it('keeps * and ** apart when they alternate (*.** is not collapsed)', () => {
    expect(parsePattern('**.*.**').segments).toEqual(['**', '*', '**']);
  });

  it.each([
    'task*',
    '*task',
    'ta*sk',
    '***',
    'a.**x',
    'a..b',
    '.a',
    'a.',
    '.',
    '',
    'a\u0000b',
    'a\nb',
    'tab\there',
    'del\u007f',
    'c1\u0085',
  ])('rejects %j with an InvalidPatternError that names it', (pattern) => {
    const error = expectInvalidPattern(pattern);
    expect(error.message).toContain(JSON.stringify(pattern));
    expect(error.pattern).toBe(pattern);
  });

  it.each([[undefined], [null], [42], [true], [{}], [['a']], [() => 'a']])(
    'rejects the non-string %s with an InvalidPatternError that names its type',
    (value) => {
      const error = expectInvalidPattern(value);
      expect(error.message).toContain(typeof value);
    },
  );

  // Regression: building the message with String(pattern) used to throw a TypeError here.
  it('rejects a null-prototype object with an InvalidPatternError, not a TypeError', () => {
    expectInvalidPattern(Object.create(null));
  });

  it(`accepts exactly ${PATTERN_LIMITS.maxLength} characters and rejects one more, naming the limit`, () => {
    const longest = 'a'.repeat(PATTERN_LIMITS.maxLength);
    expect(parsePattern(longest).segments).toEqual([longest]);
    const tooLong = `${'b'.repeat(PATTERN_LIMITS.maxLength)}c`;
    const error = expectInvalidPattern(tooLong);
    expect(error.message).toContain(tooLong.slice(0, 32));
    expect(error.message).toContain(String(PATTERN_LIMITS.maxLength));
    expect(error.message).toContain(String(tooLong.length));
  });

  it(`accepts exactly ${PATTERN_LIMITS.maxSegments} segments and rejects one more, naming the limit`, () => {
    expect(parsePattern(segmentsOf(PATTERN_LIMITS.maxSegments)).segments).toHaveLength(32);
    const tooMany = segmentsOf(PATTERN_LIMITS.maxSegments + 1);
    const error = expectInvalidPattern(tooMany);
    expect(error.message).toContain(tooMany);
    expect(error.message).toContain(`at most ${PATTERN_LIMITS.maxSegments}`);
    expect(error.message).toContain(String(PATTERN_LIMITS.maxSegments + 1));
  });

  it('counts the limit on what the user wrote, before collapsing **', () => {
    expectInvalidPattern(Array.from({ length: 33 }, () => '**').join('.'));
  });
});

describe('parsePatterns', () => {
  it('parses a single pattern or every pattern of a list, in order', () => {
    expect(parsePatterns('a.*').map((p) => p.source)).toEqual(['a.*']);
    expect(parsePatterns(['a', 'b.**']).map((p) => p.segments)).toEqual([['a'], ['b', '**']]);
  });

  it('rejects an empty list and a list with one bad pattern', () => {
    expect(() => parsePatterns([])).toThrow(InvalidPatternError);
    expect(() => parsePatterns(['a', 'b..c'])).toThrow(/"b\.\.c"/);
  });

  it('caps the patterns of one subscription, naming the limit (a client-chosen list cannot block the loop)', () => {
    const max = PATTERN_LIMITS.maxPatternsPerSubscription;
    const patterns = Array.from({ length: max + 1 }, (_, i) => `kind.${i}.*`);
    expect(parsePatterns(patterns.slice(0, max))).toHaveLength(max);
    expect(() => parsePatterns(patterns)).toThrow(InvalidPatternError);
    expect(() => parsePatterns(patterns)).toThrow(
      `at most ${max} patterns in one subscription, got ${max + 1}`,
    );
  });
});
