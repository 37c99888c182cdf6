import type { Invariant } from './flags.js';

/**
 * Invariants the library breaks today (#13 is being implemented): the simulation test marks
 * them `it.fails`, so the suite passes now and turns red the moment one is fixed — then delete
 * its line here. Each entry says what the simulation saw, with a seed to replay
 * (`npm run sim -- --seed N`). Seeds as of commit 3c5a224; later
 * changes to the library can move a defect to other seeds.
 */
export const KNOWN_VIOLATIONS_UNTIL_13: Partial<Record<Invariant, string>> = {
  'duplicate-carries-cursor':
    "a duplicate caught by the gate (bloom positive confirmed by store.has) resolves { status: 'duplicate' } without the original's cursor (seed 0)",
  'typed-errors':
    'a store.has failure during the duplicate check rejects publish with the raw store error instead of STORE_UNAVAILABLE (seed 6)',
  'waits-settle':
    "three concurrent publishes of one id deadlock on the gate's held ids: the 2nd and 3rd each wait for the other's hold (seed 25)",
  'publish-bounded': 'the same deadlock: those publishes never settle (seed 25)',
  'live-no-gap':
    'after HISTORY_TRUNCATED the shared feed re-positions at the newest event: events still retained in between never reach live subscribers (seed 210)',
  'resume-no-gap':
    'the same skipped range reaches a replay that handed over to live meanwhile; also a subscribe({ from: { after } }) made before the feed is positioned (seed 1318; before ready: seed 4419)',
  'no-silent-truncation':
    'events the feed skipped and retention then removed reach nobody, unannounced: the re-positioned feed above, and a feed positioned on an empty store that re-tails from "start" after a drop (seed 181)',
  'no-spurious-truncation':
    'a feed HISTORY_TRUNCATED fails every iterator of the bus, also those whose own position was never trimmed (seed 241)',
  'close-with-stuck-handler':
    'close() waits forever for a handler whose promise never settles (the contract is ambiguous; close({ timeoutMs }) bounds it) (seed 5)',
};
