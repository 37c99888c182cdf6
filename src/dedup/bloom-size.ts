/**
 * The textbook optimal sizes of a Bloom filter (Broder & Mitzenmacher), as bloom-filters
 * computed them: for n items at false-positive rate p, m bits and k hash functions.
 */

/** Bits for `items` at `errorRate`: m = −n·ln p / (ln 2)², rounded up. */
export function optimalFilterSize(items: number, errorRate: number): number {
  return Math.ceil(-(items * Math.log(errorRate)) / Math.LN2 ** 2);
}

/** Hash functions for a filter of `size` bits holding `items`: k = (m/n)·ln 2, rounded up. */
export function optimalHashes(size: number, items: number): number {
  return Math.ceil((size / items) * Math.LN2);
}
