import type { Invariant } from './flags.js';

/**
 * Invariants the simulation still finds broken: the simulation test marks them `it.fails`, so
 * the suite passes now and turns red the moment one is fixed — then delete its line here.
 * Each entry says what the simulation saw, with a seed to replay (`npm run sim -- --seed N`);
 * later changes to the library can move a case to other seeds. A library defect gets an
 * invariant of its own where it can, so that marking it known masks nothing else.
 */
export const KNOWN_VIOLATIONS_UNTIL_13: Partial<Record<Invariant, string>> = {
  'no-silent-truncation':
    'a limit of the EventStore port (docs/guarantees.md): a feed placed on an empty store (tail from "start") that loses its connection before its first event cannot tell whether retention removed events meanwhile (seed 181)',
};

/**
 * Found by `npm run sim -- --seeds 20000` at the end of session 4, beyond the 2,000 seeds
 * `npm test` runs (so not marked `it.fails` above), still to fix:
 * - group-at-least-once, 16 of 20,000 (e.g. seed 4691): an event published while the store is
 *   out and a group is being created again and again never reaches the group.
 * - no-silent-truncation, 13 more besides the port limit (e.g. seeds 3166, 6438): an `on()`
 *   handler misses trimmed events without HISTORY_TRUNCATED reaching onError.
 * - buffer-bounded, 1 (seed 19482): a replaying iterator with bufferSize 1 and
 *   onTruncated 'signal' held 2 items after its bus's feed lost its place.
 * - batch-id-delivered-once, 1 (seed 3320): without a store, one id delivered by two publishes.
 */
