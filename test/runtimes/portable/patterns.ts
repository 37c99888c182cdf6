import { parsePattern, TypeMatcher } from 'busline';
import { deepEqual, equal, failsWith, test } from './harness.js';

/** Registers this module's tests (suite.ts says why a call, not an import for effect). */
export function patternTests(): void {
  test('patterns: * matches one segment, ** zero or more, anywhere', () => {
    const cases: [pattern: string, type: string, matches: boolean][] = [
      ['task.*', 'task.created', true],
      ['task.*', 'task', false],
      ['task.*', 'task.created.x', false],
      ['*.created', 'user.created', true],
      ['**', 'anything.at.all', true],
      ['a.**.z', 'a.z', true],
      ['a.**.z', 'a.b.c.z', true],
      ['a.**.z', 'a.b.c', false],
      ['**.failed', 'failed', true],
      ['$sys.#.+', '$sys.#.+', true],
    ];
    for (const [pattern, type, matches] of cases) {
      equal(new TypeMatcher([pattern]).matches(type), matches, `${pattern} vs ${type}`);
    }
  });

  test('patterns: parsePattern splits segments and tells literals from wildcards', () => {
    const literal = parsePattern('task.created');
    deepEqual(literal.segments, ['task', 'created']);
    equal(literal.isLiteral, true);
    equal(parsePattern('task.**').isLiteral, false);
  });

  test('patterns: malformed patterns fail with INVALID_PATTERN', async () => {
    for (const bad of ['', 'task*', 'a..b', '.a', 'a.', 'a.\u0000']) {
      await failsWith(() => parsePattern(bad), 'INVALID_PATTERN', JSON.stringify(bad));
    }
  });
}
