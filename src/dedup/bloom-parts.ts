/**
 * The parts of bloom-filters busline uses: its BitSet and its optimal-size formulas. Deep
 * imports on purpose: the package entry loads `reflect-metadata`, which patches the global
 * `Reflect` — a side effect an embedded library must not impose on its host.
 */
import * as bitSetModule from 'bloom-filters/dist/bloom/bit-set.js';
import * as formulasModule from 'bloom-filters/dist/formulas.js';

/**
 * These files are CommonJS compiled from TypeScript (`exports.default = BitSet`); loaders
 * disagree on whether a default import yields `module.exports` or `module.exports.default`,
 * so unwrap whichever level holds the value.
 */
function unwrap<T>(module: unknown, pick: (m: Record<string, unknown>) => unknown): T {
  let current = module as Record<string, unknown> | undefined;
  for (let depth = 0; current && depth < 3; depth++) {
    const found = pick(current);
    if (found !== undefined) return found as T;
    current = current.default as Record<string, unknown> | undefined;
  }
  throw new Error('bloom-filters: unexpected module shape');
}

/** What busline uses of bloom-filters' BitSet (a Uint8Array of bits). */
export interface BitSet {
  readonly array: Uint8Array;
  has(index: number): boolean;
  add(index: number): void;
}

export const BitSet: new (size: number) => BitSet = unwrap(bitSetModule, (m) =>
  typeof m.default === 'function' ? m.default : undefined,
);
/** Bits for `items` at `errorRate`: −n·ln p / (ln 2)². */
export const optimalFilterSize: (items: number, errorRate: number) => number = unwrap(
  formulasModule,
  (m) => m.optimalFilterSize,
);
/** Hash functions for a filter of `size` bits holding `items`: (m/n)·ln 2. */
export const optimalHashes: (size: number, items: number) => number = unwrap(
  formulasModule,
  (m) => m.optimalHashes,
);
