import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parsePattern } from '../../src/pattern/parse.js';
import { segmentsMatch } from '../../src/pattern/segments-match.js';
import { referenceMatches } from './reference-matcher.js';

const word = fc.constantFrom('a', 'b', 'c');
const typeArb = fc.array(word, { minLength: 1, maxLength: 8 }).map((s) => s.join('.'));
const segment = fc.oneof(
  { arbitrary: word, weight: 3 },
  { arbitrary: fc.constant('*'), weight: 1 },
  { arbitrary: fc.constant('**'), weight: 2 },
);
const body = fc.array(segment, { minLength: 1, maxLength: 6 }).map((s) => s.join('.'));
// Forces the shapes that exercise backtracking: ** at either end, at both, and in the middle.
const patternArb = fc.oneof(
  body,
  body.map((p) => `**.${p}`),
  body.map((p) => `${p}.**`),
  body.map((p) => `**.${p}.**`),
  fc.tuple(body, body, body).map(([p, q, r]) => `${p}.**.${q}.**.${r}`),
);

const matches = (pattern: string, type: string) =>
  segmentsMatch(parsePattern(pattern).segments, type.split('.'));

describe('segmentsMatch', () => {
  it('agrees with the reference matcher on random patterns and types', () => {
    fc.assert(
      fc.property(patternArb, typeArb, (pattern, type) => {
        expect(matches(pattern, type)).toBe(referenceMatches(pattern, type));
      }),
      { numRuns: 5000 },
    );
  });

  it('finds matches often enough for the comparison above to mean something', () => {
    const samples = fc.sample(fc.tuple(patternArb, typeArb), { numRuns: 2000, seed: 42 });
    const hits = samples.filter(([p, t]) => referenceMatches(p, t)).length;
    expect(hits).toBeGreaterThan(200);
    expect(hits).toBeLessThan(1800);
  });

  it.each([
    ['**.a.**.b', 'a.b', true],
    ['**.a.**.b', 'b.a.c.a.b', true],
    ['**.a.**.b', 'b.a.c.a.b.c', false],
    ['**.*.a', 'a', false],
    ['**.*.a', 'b.a', true],
    ['a.**.*', 'a', false],
    ['a.**.*', 'a.b', true],
    ['*.**.*', 'a', false],
    ['*.**.*', 'a.b.c.d', true],
    ['**.a.*.a.**', 'a.a.b.a', true],
    ['**.a.*.a.**', 'a.a.b.b', false],
  ])('backtracks correctly: %s on %s is %s', (pattern, type, expected) => {
    expect(referenceMatches(pattern, type)).toBe(expected);
    expect(matches(pattern, type)).toBe(expected);
  });
});
