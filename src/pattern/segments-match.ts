import { GLOBSTAR, STAR } from './limits.js';

/**
 * Does a parsed pattern match an event type's segments? Used to patch cached match lists
 * when a subscription comes or goes, so the cache never needs a full rebuild.
 *
 * Iterative with a single backtrack point per `**` (like glob matching): because consecutive
 * `**` are collapsed and `*` consumes exactly one segment, resuming after the latest `**` is
 * enough, and the cost is O(pattern × type) in the worst case.
 */
export function segmentsMatch(pattern: readonly string[], type: readonly string[]): boolean {
  let p = 0;
  let t = 0;
  let starP = -1;
  let starT = 0;
  while (t < type.length) {
    const segment = pattern[p];
    if (segment === GLOBSTAR) {
      starP = p++;
      starT = t;
    } else if (segment !== undefined && (segment === STAR || segment === type[t])) {
      p++;
      t++;
    } else if (starP >= 0) {
      p = starP + 1;
      t = ++starT;
    } else {
      return false;
    }
  }
  while (pattern[p] === GLOBSTAR) p++;
  return p === pattern.length;
}
