/**
 * The test oracle: the "Patterns" section of API.md read literally, on plain strings.
 * `*` is exactly one segment, `**` is zero or more segments, anything else is literal.
 * Deliberately naive (plain recursion, no collapsing, no backtracking tricks) so that it is
 * obviously right; exponential in the worst case, which is fine for the short inputs of tests.
 */
export function referenceMatches(pattern: string, type: string): boolean {
  return matchFrom(pattern.split('.'), type.split('.'));
}

function matchFrom(pattern: readonly string[], type: readonly string[]): boolean {
  if (pattern.length === 0) return type.length === 0;
  const [head, ...rest] = pattern;
  if (head === '**') {
    for (let taken = 0; taken <= type.length; taken++) {
      if (matchFrom(rest, type.slice(taken))) return true;
    }
    return false;
  }
  if (type.length === 0) return false;
  return (head === '*' || head === type[0]) && matchFrom(rest, type.slice(1));
}
