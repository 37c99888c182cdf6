/**
 * The model's own pattern matcher, written from the contract's words (API.md "Patterns") and
 * independent of the library's trie: the checker must not share the code it judges.
 * `*` = exactly one segment, `**` = zero or more, anything else literal.
 */
export function matches(pattern: string, type: string): boolean {
  // A run has a handful of patterns and types, matched again on every store read: remembered.
  const key = `${pattern}\n${type}`;
  let result = known.get(key);
  if (result === undefined) known.set(key, (result = match(pattern, type)));
  return result;
}

const known = new Map<string, boolean>();

function match(pattern: string, type: string): boolean {
  const p = pattern.split('.');
  const t = type.split('.');
  const memo = new Map<number, boolean>();
  const go = (i: number, j: number): boolean => {
    const key = i * 1000 + j;
    const known = memo.get(key);
    if (known !== undefined) return known;
    let result: boolean;
    if (i === p.length) result = j === t.length;
    else if (p[i] === '**') result = go(i + 1, j) || (j < t.length && go(i, j + 1));
    else result = j < t.length && (p[i] === '*' || p[i] === t[j]) && go(i + 1, j + 1);
    memo.set(key, result);
    return result;
  };
  return go(0, 0);
}

export function matchesAny(patterns: readonly string[], type: string): boolean {
  return patterns.some((p) => matches(p, type));
}
