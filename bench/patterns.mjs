// Deterministic pattern sets for the scale and churn scenarios: a fixed-seed generator, so every
// run (and every library) sees the same 10 / 1,000 / 10,000 patterns, and an independent
// reference matcher that proves exactly one of them matches the published type.

/** The type every scale/churn scenario publishes, and the one pattern of the set that matches it. */
export const SCALE_TYPE = 'orders.eu.created';
export const SCALE_MATCH = 'orders.*.created';

/** mulberry32: tiny, fast, good enough to shuffle benchmark inputs; same seed, same sequence. */
export function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Reference glob match over segments (`*` one segment, `**` zero or more), written plainly
 * and recursively so it shares no code with busline's matcher.
 */
export function referenceMatch(pattern, type) {
  const p = pattern.split('.');
  const t = type.split('.');
  const go = (i, j) => {
    if (i === p.length) return j === t.length;
    if (p[i] === '**') {
      for (let k = j; k <= t.length; k++) if (go(i + 1, k)) return true;
      return false;
    }
    if (j === t.length) return false;
    return (p[i] === '*' || p[i] === t[j]) && go(i + 1, j + 1);
  };
  return go(0, 0);
}

const TYPE_WORDS = SCALE_TYPE.split('.');

/**
 * `count` distinct patterns of mixed shapes: ~40 % literal, ~30 % with `*`, ~30 % with `**`
 * (first, middle or last), 1–5 segments, words from a 300-word vocabulary plus the published
 * type's own words (so near misses like `orders.eu.w17` exist). Exactly one, SCALE_MATCH,
 * matches SCALE_TYPE; any other candidate that would match is rejected.
 */
export function mixedPatterns(count, seed = 0xb5) {
  const rand = prng(seed);
  const pick = (n) => Math.floor(rand() * n);
  const word = () => (rand() < 0.15 ? TYPE_WORDS[pick(TYPE_WORDS.length)] : `w${pick(300)}`);
  const patterns = new Set([SCALE_MATCH]);
  while (patterns.size < count) {
    const length = 1 + pick(5);
    const segments = Array.from({ length }, word);
    const shape = rand();
    if (shape >= 0.4 && shape < 0.7) {
      // one or two `*`
      segments[pick(length)] = '*';
      if (length > 2 && rand() < 0.3) segments[pick(length)] = '*';
    } else if (shape >= 0.7) {
      segments.splice(pick(length + 1), 0, '**');
    }
    const pattern = segments.join('.');
    if (!segments.some((s) => s !== '*' && s !== '**')) continue; // all-wildcard would match anything
    if (referenceMatch(pattern, SCALE_TYPE)) continue;
    patterns.add(pattern);
  }
  const list = [...patterns];
  // Put the matching pattern at a fixed pseudo-random position rather than first.
  list.splice(0, 1);
  list.splice(pick(list.length + 1), 0, SCALE_MATCH);
  const matching = list.filter((p) => referenceMatch(p, SCALE_TYPE));
  if (matching.length !== 1) throw new Error(`pattern set of ${count}: ${matching.length} patterns match`);
  return list;
}

/** How the set is made up, for the report. */
export function describePatterns(list) {
  let literal = 0;
  let star = 0;
  let globstar = 0;
  for (const p of list) {
    const s = p.split('.');
    if (s.includes('**')) globstar++;
    else if (s.includes('*')) star++;
    else literal++;
  }
  return { literal, star, globstar };
}
