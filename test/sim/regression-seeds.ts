/**
 * Seeds beyond the ones `npm test` sweeps that once found a defect (by
 * `npm run sim -- --seeds 20000`): the simulation test replays each one every run, so the
 * fix stays proven. Later changes to the library can move a case to other seeds; a seed
 * here that stops staging its case still costs nothing to keep.
 */
export const REGRESSION_SEEDS: Readonly<Record<number, string>> = {
  3166: 'no-silent-truncation: a feed placed on an empty store lost its connection before its first event, and retention removed events meanwhile (also seeds 181, 6438, 9410, 9812)',
  3320: 'batch-id-delivered-once: without a store, a batch that waited past the dedup window for another publish of its ids was delivered again',
  3327: "no-silent-truncation: a fix for 3471 that trusted the feed's last delivery lost an event its tail had left out past it (also 4032, 17703)",
  3471: 'no-spurious-truncation: a catch-up read after an outage came back truncated although the feed, still behind, delivered the event at its cursor afterwards and held everything after it',
  4032: 'no-silent-truncation: as 3327',
  4691: 'group-at-least-once: an event the shared feed skipped when it lost its place never woke the consumer group',
  6438: 'no-silent-truncation: as 3166',
  8534: 'group-at-least-once: as 4691, with the group joined while the feed was being placed again',
  9410: 'no-silent-truncation: as 3166',
  9812: 'no-silent-truncation: as 3166',
  15321: 'group-at-least-once: as 8534',
  17703: 'no-silent-truncation and resume-no-gap: as 3327',
  19482:
    'buffer-bounded: a truncation report filled a buffer of one, and the next live event was queued past it',
  22649:
    'close-with-stuck-handler: bus.close() waited for a hung consumer handler until its ackTimeoutMs before its own timeout began',
  35993: 'group-at-least-once (a checker fault): a burst stored late in the calm was judged as owed work',
  44493:
    'live-no-gap (a checker fault): a burst a delay limiter held until the buses closed was judged as owed',
  118183:
    'resume-no-gap: a replay whose last read found nothing more waited for its reader while the feed lost its place and was placed again past an event appended after that read; it went live on the old read',
  148926:
    'group-at-least-once (a checker fault): a burst stored before the group joined, which it handled anyway, was left out of the work it could still be doing',
  187303:
    'no-spurious-truncation: a resume from the very cursor the feed had last delivered was told HISTORY_TRUNCATED although the feed held everything after it',
  284392:
    'no-duplicate-delivery: a resume that retention passed reset what it had read up to when it was told, and a lagging feed then handed it an event from before its cursor',
};
