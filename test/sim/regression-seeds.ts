/**
 * Seeds beyond the ones `npm test` sweeps that once found a defect (by
 * `npm run sim -- --seeds 20000`): the simulation test replays each one every run, so the
 * fix stays proven. Later changes to the library can move a case to other seeds; a seed
 * here that stops staging its case still costs nothing to keep.
 */
export const REGRESSION_SEEDS: Readonly<Record<number, string>> = {
  3320: 'batch-id-delivered-once: without a store, a batch that waited past the dedup window for another publish of its ids was delivered again',
  4691: 'group-at-least-once: an event the shared feed skipped when it lost its place never woke the consumer group',
  8534: 'group-at-least-once: as 4691, with the group joined while the feed was being placed again',
  15321: 'group-at-least-once: as 8534',
  19482: 'buffer-bounded: a truncation report filled a buffer of one, and the next live event was queued past it',
};
