import { checkAppendErrors } from './check-appends.js';
import { checkDeliveredTo } from './check-counts.js';
import { checkLatency } from './check-latency.js';
import { checkNoStoreBus } from './check-no-store.js';
import type { Invariant } from './flags.js';
import type { SubRecord } from './model.js';
import { selects } from './selection.js';
import type { StoredRecord } from './sim-store.js';
import { ledgerOf, type World } from './world.js';

/**
 * The end-of-run checks, against the store's log. `checkpointOrdinal` is when the run had
 * settled: subscriptions still open and healthy then owe every event of their universe stored
 * before it (a publish still waiting then, on a `delay` limiter, may store its events while
 * the buses close: no one is owed those).
 */
export function checkRun(
  world: World,
  openAtCheckpoint: ReadonlySet<SubRecord>,
  checkpointOrdinal: number,
  endedAt: number,
): void {
  const { model, store } = world;
  const on = (i: Invariant) => world.config.invariants.has(i);
  // The shared store's log holds every shared bus's events; a private store's, its bus's.
  const ledgers = new Map<number | 'shared', Ledger>();
  const ledgerFor = (bus: number): Ledger => {
    const key = world.privateStores.has(bus) ? bus : 'shared';
    let ledger = ledgers.get(key);
    if (ledger === undefined) {
      ledger = newLedger(ledgerOf(world, bus).log);
      ledgers.set(key, ledger);
    }
    return ledger;
  };

  // ---- publish results ----
  for (const p of model.publishes) {
    if (p.results === undefined || model.buses[p.bus]!.store === 'none') continue;
    /** Cursor → the publishes (bus, call ordinal) that resolved 'delivered' for it. */
    const { byCursor, byId, ownPublishes } = ledgerFor(p.bus);
    if (p.results.length !== p.ids.length && on('publish-ack-stored'))
      model.violate('publish-ack-stored', `${p.key}: ${p.results.length} results for ${p.ids.length} events`);
    for (const r of p.results) {
      const stored = r.cursor === undefined ? undefined : byCursor.get(r.cursor);
      if (r.status === 'delivered') {
        if (stored === undefined || stored.event.id !== r.id) {
          if (on('publish-ack-stored'))
            model.violate(
              'publish-ack-stored',
              `${p.key}: ${r.id} resolved delivered@${r.cursor}, the store has ${stored?.event.id ?? 'nothing'} there`,
            );
        } else {
          const list = ownPublishes.get(r.cursor!) ?? [];
          list.push({ bus: p.bus, calledOrdinal: p.calledOrdinal });
          ownPublishes.set(r.cursor!, list);
        }
      } else if (r.status === 'duplicate') {
        const before = (byId.get(r.id) ?? []).filter((s) => s.appliedOrdinal < p.settledOrdinal!);
        if (before.length === 0) {
          if (on('id-seen-only-once-stored'))
            model.violate(
              'id-seen-only-once-stored',
              `${p.key}: ${r.id} came back 'duplicate' but no event with that id was stored`,
            );
        } else if (r.cursor === undefined) {
          if (on('duplicate-carries-cursor'))
            model.violate(
              'duplicate-carries-cursor',
              `${p.key}: ${r.id} came back 'duplicate' without the original's cursor (${before[0]!.cursor})`,
            );
        } else if (stored === undefined || stored.event.id !== r.id) {
          if (on('publish-ack-stored'))
            model.violate(
              'publish-ack-stored',
              `${p.key}: duplicate ${r.id} names ${r.cursor}, the original is at ${before[0]!.cursor}`,
            );
        }
      } else if (r.status !== 'rate_limited' || model.buses[p.bus]!.limiter?.onLimit !== 'drop') {
        if (on('publish-ack-stored'))
          model.violate(
            'publish-ack-stored',
            `${p.key}: unexpected status ${r.status} (onLimit ${model.buses[p.bus]!.limiter?.onLimit})`,
          );
      }
    }
  }

  // ---- deliveries per subscription ----
  for (const sub of model.subs)
    if (model.buses[sub.bus]!.store !== 'none')
      checkSubscription(world, sub, openAtCheckpoint.has(sub), checkpointOrdinal, ledgerFor(sub.bus));
  for (const bus of model.buses) if (bus?.store === 'none') checkNoStoreBus(world, bus);
  checkLatency(world);
  checkDeliveredTo(world);
  checkAppendErrors(world);
  if (store.closeCalls > 0 && on('passed-store-stays-open'))
    model.violate(
      'passed-store-stays-open',
      `the buses closed the store they were given ${store.closeCalls} time(s)`,
    );

  // ---- waits ----
  for (const wait of model.waits) {
    if (wait.settledAt === undefined) {
      if (on(wait.hangInvariant))
        model.violate(
          wait.hangInvariant,
          `${wait.label} (called t=${wait.startedAt}) never settled: the run ended at t=${endedAt}, past the horizon, every actor stopped and every bus closed, with it still pending`,
        );
      if (wait.boundMs !== undefined && wait.invariant !== wait.hangInvariant && on(wait.invariant))
        model.violate(
          wait.invariant,
          `${wait.label} (called t=${wait.startedAt}) still pending past its ${wait.boundMs} ms bound`,
        );
    } else if (
      wait.boundMs !== undefined &&
      wait.settledAt - wait.startedAt > wait.boundMs &&
      on(wait.invariant)
    ) {
      model.violate(
        wait.invariant,
        `${wait.label} took ${wait.settledAt - wait.startedAt} ms (called t=${wait.startedAt}), bound ${wait.boundMs} ms`,
      );
    }
  }
  if (model.unhandled.length > 0 && on('no-unhandled-rejection'))
    model.violate(
      'no-unhandled-rejection',
      `${model.unhandled.length} unhandled rejection(s), first: ${String(model.unhandled[0])}`,
    );
}

/** One store's log, indexed: by cursor, by event id, and the publishes that resolved `delivered` per cursor. */
interface Ledger {
  log: readonly StoredRecord[];
  byCursor: Map<string, StoredRecord>;
  byId: Map<string, StoredRecord[]>;
  ownPublishes: Map<string, { bus: number; calledOrdinal: number }[]>;
}

function newLedger(log: readonly StoredRecord[]): Ledger {
  const byCursor = new Map<string, StoredRecord>();
  const byId = new Map<string, StoredRecord[]>();
  for (const record of log) {
    byCursor.set(record.cursor, record);
    const list = byId.get(record.event.id);
    if (list) list.push(record);
    else byId.set(record.event.id, [record]);
  }
  return { log, byCursor, byId, ownPublishes: new Map() };
}

function checkSubscription(
  world: World,
  sub: SubRecord,
  openAtCheckpoint: boolean,
  checkpointOrdinal: number,
  ledger: Ledger,
): void {
  const { model } = world;
  const { byCursor, ownPublishes } = ledger;
  const on = (i: Invariant) => world.config.invariants.has(i);
  const report = (i: Invariant, detail: string) => on(i) && model.violate(i, `${sub.key}: ${detail}`);
  const seen = new Set<string>();
  const lastByStream = new Map<string, string>();
  const resumeAfter = typeof sub.start === 'object' ? sub.start.after : undefined;
  for (const d of sub.delivered) {
    const stored = byCursor.get(d.cursor);
    if (
      stored === undefined ||
      stored.event.id !== d.id ||
      stored.event.type !== d.type ||
      stored.event.stream !== d.stream
    )
      report('no-phantom-delivery', `got ${d.id}@${d.cursor} which the store does not hold`);
    else if (!selects(sub, stored.event))
      report(
        'no-phantom-delivery',
        `got ${d.id} ${d.type}/${d.stream}, which does not match ${sub.patterns}${sub.stream ? ` in ${sub.stream}` : ''}${sub.filter ? ' with its filter' : ''}`,
      );
    if (seen.has(d.cursor)) report('no-duplicate-delivery', `got ${d.id}@${d.cursor} twice`);
    if (resumeAfter !== undefined && d.cursor <= resumeAfter)
      report('no-duplicate-delivery', `resumed after ${resumeAfter} yet got ${d.id}@${d.cursor}`);
    seen.add(d.cursor);
    const last = lastByStream.get(d.stream);
    if (last !== undefined && d.cursor < last)
      report('stream-order', `got ${d.id}@${d.cursor} after ${last} in stream ${d.stream}`);
    if (last === undefined || d.cursor > last) lastByStream.set(d.stream, d.cursor);
  }

  const matching = ledger.log.filter((r) => selects(sub, r.event));
  const bus = model.buses[sub.bus]!;
  let universe: StoredRecord[];
  if (sub.start === 'now') {
    // Live: stored after the subscription was connected (registered, and the bus ready), or
    // published by its own bus after it registered (that reaches it before or after ready()).
    let connected = Math.max(sub.registeredOrdinal, bus.readyOrdinal ?? Number.POSITIVE_INFINITY);
    // Made while the feed was being placed again after losing its place: connected once it was.
    for (const gap of bus.gaps) {
      if (
        gap.lostOrdinal < sub.registeredOrdinal &&
        (gap.placedOrdinal ?? Number.POSITIVE_INFINITY) > sub.registeredOrdinal
      )
        connected = Math.max(connected, gap.placedOrdinal ?? Number.POSITIVE_INFINITY);
    }
    universe = matching.filter(
      (r) =>
        r.appliedOrdinal > connected ||
        (ownPublishes.get(r.cursor) ?? []).some(
          (p) => p.bus === sub.bus && p.calledOrdinal > sub.registeredOrdinal,
        ),
    );
  } else if (sub.start === 'start') universe = matching.filter((r) => r.seq > sub.trimmedAtStart);
  else universe = matching.filter((r) => r.cursor > resumeAfter!);

  // A subscription that ended, or whose user stopped consuming, owes only what lies before
  // the last event it got in each stream (no holes); an open, healthy one owes everything.
  const complete = openAtCheckpoint && sub.healthy;
  // Owed in full: what was stored before the calm was half over. Only a publish a `delay`
  // limiter held through the calm stores later (no action starts after the horizon), and a
  // slow reader may not get through such a burst before the checkpoint (seed 44493, again).
  const owedUntil = world.config.horizonMs + world.config.settleMs / 2;
  const required = complete
    ? universe.filter((r) => r.appliedOrdinal < checkpointOrdinal && r.appliedAt <= owedUntil)
    : universe.filter((r) => {
        const last = lastByStream.get(r.event.stream);
        return last !== undefined && r.cursor < last;
      });
  const signalled =
    sub.kind === 'iterator'
      ? sub.truncations.length > 0
      : bus.errors.some((e) => e.code === 'HISTORY_TRUNCATED' && e.ordinal > sub.registeredOrdinal);
  const first = sub.delivered[0]?.cursor;
  const gap = sub.start === 'now' ? 'live-no-gap' : 'resume-no-gap';
  let gaps = 0;
  let silent = 0;
  let example = '';
  for (const r of required) {
    if (seen.has(r.cursor)) continue;
    if (r.trimmedOrdinal !== undefined) {
      if (signalled) continue;
      // From 'start': what retention removed before the replay reached it was never "retained".
      if (sub.start === 'start' && (first === undefined || r.cursor < first)) continue;
      silent++;
      if (silent === 1) example = `${r.event.id}@${r.cursor}`;
    } else {
      gaps++;
      if (gaps === 1) example = `${r.event.id}@${r.cursor} ${r.event.type}/${r.event.stream}`;
    }
  }
  const state = `${complete ? 'open and consuming' : `${sub.endReason ?? (sub.healthy ? 'open' : 'stuck')}`}`;
  if (gaps > 0)
    report(
      gap,
      `missed ${gaps} of ${required.length} owed events (first ${example}); got ${sub.delivered.length}; ${state}`,
    );
  if (silent > 0)
    report(
      'no-silent-truncation',
      `${silent} owed event(s) were trimmed before delivery and no HISTORY_TRUNCATED was reported (first ${example})`,
    );

  if (sub.kind === 'iterator' && sub.truncations.length > 0) {
    // Truncation is about positions, not patterns (a store cannot tell whether what it removed
    // would have matched): it is justified when retention removed, while the subscription
    // existed and before it was told, an event after the last position it had reached.
    const told = sub.truncations[0]!.ordinal;
    const before = sub.delivered.filter((d) => d.ordinal < told).at(-1)?.cursor ?? resumeAfter;
    const justified = ledger.log.some(
      (r) =>
        r.trimmedOrdinal !== undefined &&
        r.trimmedOrdinal < told &&
        // A subscription that has received nothing has no position of its own: the bus holds it
        // to its feed's (docs/guarantees.md), so when the feed loses its place, a trim of any event
        // the subscription never got counts, even one older than the subscription (the bus cannot
        // tell which events came before it without a position).
        (before === undefined ? true : r.cursor > before) &&
        !seen.has(r.cursor),
    );
    if (!justified)
      report(
        'no-spurious-truncation',
        `was told HISTORY_TRUNCATED (${sub.truncations[0]!.how}) but retention removed nothing after its position ${before ?? '(none yet)'}`,
      );
  }
}
