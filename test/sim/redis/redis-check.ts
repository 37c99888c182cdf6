import type { RedisEventStore } from '../../../src/redis/index.js';
import type { StoredEvent } from '../lib.js';
import { BuslineError } from '../lib.js';
import { matches } from '../patterns.js';
import { describeError, type RunModel, type SubRecord } from './redis-model.js';

/**
 * The invariants of #13, checked after a run against the store's own log (read back with the
 * store's `read`, following `next`): what the publishers were told, what every subscription got,
 * the bounds, and that every wait settled.
 */

export interface FinalState {
  /** The whole log after the run. */
  log: StoredEvent[];
  /** With small retention: each stream's own view (per-stream trimming applies to it only). */
  streams: Map<string, StoredEvent[]>;
  retention: boolean;
  /** Subscriptions still open when the run had drained (they owe everything). */
  checkpoint: ReadonlySet<SubRecord>;
  /**
   * Also report iterators that a store failure ended (STORE_UNAVAILABLE): API.md's catch-up rule
   * lets only HISTORY_TRUNCATED end one, but today a failed catch-up read does (the `.fails`
   * test in redis-invariants.test.ts). Off by default, so that the seeds stay green meanwhile;
   * REDIS_SIM_STRICT=1 turns it on.
   */
  strict: boolean;
}

/** Every event of the log (or of one stream), oldest first, following `next`. */
export async function readAll(store: RedisEventStore, stream?: string): Promise<StoredEvent[]> {
  const events: StoredEvent[] = [];
  for (let after: string | undefined; ; ) {
    const page = await store.read({ after, stream, limit: 500 });
    events.push(...page.events);
    if (page.next === undefined) return events;
    after = page.next;
  }
}

/** An event the checker knows of: from the log, or (small retention) acknowledged or delivered and trimmed since. */
interface Known {
  cursor: string;
  id: string;
  type: string;
  stream: string;
  n: number;
  inLog: boolean;
}

function selects(sub: SubRecord, e: { type: string; stream: string; n: number }): boolean {
  return (
    matches(sub.pattern, e.type) &&
    (sub.stream === undefined || e.stream === sub.stream) &&
    (sub.filter === undefined || sub.filter({ data: { n: e.n } }))
  );
}

/** Cursors of events that `bus` acknowledged 'delivered' to publishes called after `seq`. */
function ownPublishes(model: RunModel, bus: number, seq: number): Set<string> {
  const cursors = new Set<string>();
  for (const p of model.publishes) {
    if (p.bus !== bus || p.calledSeq <= seq || p.results === undefined) continue;
    for (const r of p.results) if (r.status === 'delivered' && r.cursor !== undefined) cursors.add(r.cursor);
  }
  return cursors;
}

/** The events a subscription is owed (if it kept consuming), among `events`. */
function universe<E extends { cursor: string; type: string; stream: string; n: number }>(
  model: RunModel,
  sub: SubRecord,
  events: readonly E[],
): E[] {
  const matching = events.filter((e) => selects(sub, e));
  if (sub.start === 'start') return matching;
  if (typeof sub.start === 'object') {
    const after = sub.start.after;
    return matching.filter((e) => e.cursor > after);
  }
  // Live: stored after it was connected, or published by its own bus after it registered.
  const own = ownPublishes(model, sub.bus, sub.registeredSeq);
  const fence = sub.fence;
  return matching.filter(
    (e) => (fence !== undefined && (fence === null || e.cursor > fence)) || own.has(e.cursor),
  );
}

function truncationTold(model: RunModel, sub: SubRecord): boolean {
  if (sub.kind === 'iterator') return sub.truncations.length > 0;
  return model.buses[sub.bus]!.errors.some(
    (e) => e.code === 'HISTORY_TRUNCATED' && e.seq > sub.registeredSeq,
  );
}

/** How many owed events of `log` the subscription has not got yet (the drain waits for 0). */
export function owedMissing(model: RunModel, sub: SubRecord, log: readonly StoredEvent[]): number {
  if (truncationTold(model, sub)) return 0;
  const seen = new Set(sub.delivered.map((d) => d.cursor));
  const events = log.map((e) => ({ ...e, n: (e.data as { n: number }).n }));
  return universe(model, sub, events).filter((e) => !seen.has(e.cursor)).length;
}

/** How much a run's check covered: subscriptions that owed everything, and owed events looked for. */
export interface CheckCoverage {
  completeSubs: number;
  owedChecked: number;
}

export function checkRun(model: RunModel, final: FinalState): CheckCoverage {
  const coverage: CheckCoverage = { completeSubs: 0, owedChecked: 0 };
  const report = (invariant: string, detail: string) => model.violate(invariant, detail);

  // ---- the ground truth ----
  const known = new Map<string, Known>();
  const idsInLog = new Map<string, string[]>();
  for (const e of final.log) {
    known.set(e.cursor, {
      cursor: e.cursor,
      id: e.id,
      type: e.type,
      stream: e.stream,
      n: (e.data as { n: number }).n,
      inLog: true,
    });
    const list = idsInLog.get(e.id) ?? [];
    list.push(e.cursor);
    idsInLog.set(e.id, list);
  }
  for (const [id, cursors] of idsInLog)
    if (cursors.length > 1)
      report('id-stored-once', `${id} is stored ${cursors.length} times: ${cursors.join(', ')}`);

  if (final.retention) {
    // What retention removed is not in the log any more: acknowledged and delivered events stand
    // for it (an event with an id nobody published is a phantom all the same).
    for (const p of model.publishes)
      for (const r of p.results ?? []) {
        const e = model.attempted.get(r.id);
        if (r.cursor !== undefined && e !== undefined && !known.has(r.cursor))
          known.set(r.cursor, {
            cursor: r.cursor,
            id: e.id,
            type: e.type,
            stream: e.stream,
            n: e.data.n,
            inLog: false,
          });
      }
    for (const sub of model.subs)
      for (const d of sub.delivered) {
        const e = model.attempted.get(d.id);
        if (
          !known.has(d.cursor) &&
          e !== undefined &&
          e.type === d.type &&
          e.stream === d.stream &&
          e.data.n === d.n
        )
          known.set(d.cursor, { ...d, inLog: false });
      }
  }
  const truth = [...known.values()].sort((a, b) => (a.cursor < b.cursor ? -1 : a.cursor > b.cursor ? 1 : 0));
  const inStream = new Map<string, Set<string>>();
  for (const [stream, events] of final.streams) inStream.set(stream, new Set(events.map((e) => e.cursor)));
  /** Removed by retention from what this subscription reads: its stream's key, or the log. */
  const trimmedFor = (sub: SubRecord, e: Known): boolean =>
    final.retention && (sub.stream !== undefined ? !inStream.get(sub.stream)?.has(e.cursor) : !e.inLog);

  // ---- publish results ----
  for (const p of model.publishes) {
    if (p.results === undefined) continue;
    if (p.results.length !== p.events.length)
      report('publish-ack-stored', `${p.key}: ${p.results.length} results for ${p.events.length} events`);
    for (const r of p.results) {
      const at = r.cursor === undefined ? undefined : known.get(r.cursor);
      if (r.status === 'delivered') {
        if (at === undefined || at.id !== r.id)
          report(
            'publish-ack-stored',
            `${p.key}: ${r.id} resolved 'delivered' at ${r.cursor}; the store has ${at?.id ?? 'nothing'} there`,
          );
      } else if (r.status === 'duplicate') {
        if (r.cursor === undefined)
          report('duplicate-carries-cursor', `${p.key}: ${r.id} came back 'duplicate' without a cursor`);
        else if (at === undefined || at.id !== r.id)
          report(
            'duplicate-carries-cursor',
            `${p.key}: duplicate ${r.id} names ${r.cursor}, where the store has ${at?.id ?? 'nothing'} (the original is at ${idsInLog.get(r.id)?.join(', ') ?? 'no cursor'})`,
          );
      } else report('publish-ack-stored', `${p.key}: unexpected status ${r.status} (no limiter configured)`);
    }
  }
  // An id is published once: one 'delivered' at most, and 'duplicate' once it was acknowledged.
  // With small retention an id may be stored anew once its event was trimmed from the log (the
  // id index holds exactly what the log holds: docs/redis.md, "Retention").
  const stillStored = (cursor: string) => known.get(cursor)?.inLog === true;
  const deliveredBy = new Map<string, { key: string; cursor: string | undefined }[]>();
  /** Per id, the earliest moment (seq) a publish came back with its cursor. */
  const firstAcked = new Map<string, { seq: number; key: string; cursor: string }>();
  for (const p of model.publishes)
    for (const r of p.results ?? []) {
      if (r.status === 'delivered')
        deliveredBy.set(r.id, [...(deliveredBy.get(r.id) ?? []), { key: p.key, cursor: r.cursor }]);
      const before = firstAcked.get(r.id);
      if (r.cursor !== undefined && (before === undefined || p.settledSeq! < before.seq))
        firstAcked.set(r.id, { seq: p.settledSeq!, key: p.key, cursor: r.cursor });
    }
  for (const [id, list] of deliveredBy) {
    if (list.length < 2) continue;
    const cursors = new Set(list.map((d) => d.cursor));
    const allowed =
      final.retention &&
      cursors.size === list.length &&
      [...cursors].filter((c) => c !== undefined && stillStored(c)).length <= 1;
    if (!allowed)
      report(
        'delivered-once-per-id',
        `${id} came back 'delivered' ${list.length} times: ${list.map((d) => `${d.key}@${d.cursor}`).join(', ')}`,
      );
  }
  for (const p of model.publishes)
    for (const r of p.results ?? []) {
      const acked = firstAcked.get(r.id);
      if (
        r.status === 'delivered' &&
        acked !== undefined &&
        acked.seq < p.calledSeq &&
        (!final.retention || stillStored(acked.cursor))
      )
        report(
          'delivered-once-per-id',
          `${p.key}: ${r.id} came back 'delivered' although ${acked.key} had it stored at ${acked.cursor} before this publish was called`,
        );
    }

  for (const [k, kill] of model.kills.entries()) {
    if (kill.missingAfterRestart.length > 0)
      report(
        'acked-survives-kill9',
        `kill ${k}: ${kill.missingAfterRestart.length} of ${kill.ackedBefore.size} events acknowledged before the kill are not in the log after the restart (first ${kill.missingAfterRestart[0]})`,
      );
  }

  // ---- every subscription ----
  for (const sub of model.subs) {
    const owed = checkSubscription(model, sub, final, known, truth, trimmedFor);
    coverage.owedChecked += owed;
    if (final.checkpoint.has(sub)) coverage.completeSubs++;
  }

  // ---- no truncation without retention (a Redis restarted with its AOF keeps its epoch) ----
  if (!final.retention) {
    for (const bus of model.buses)
      for (const e of bus.errors)
        if (e.code === 'HISTORY_TRUNCATED')
          report(
            'no-spurious-truncation',
            `bus${bus.index} onError(${e.source}, ${e.patterns.join(',')}) got HISTORY_TRUNCATED with nothing trimmed: ${e.message}`,
          );
  }

  // ---- waits ----
  for (const wait of model.waits) {
    if (wait.settledAt === undefined)
      report(
        wait.invariant,
        `${wait.label} (called t=${wait.startedAt}) never settled (bound ${wait.boundMs} ms)`,
      );
    else if (wait.settledAt - wait.startedAt > wait.boundMs)
      report(
        wait.invariant,
        `${wait.label} took ${wait.settledAt - wait.startedAt} ms (called t=${wait.startedAt}), bound ${wait.boundMs} ms`,
      );
  }
  for (const reason of model.unhandled)
    report(
      'no-unhandled-rejection',
      `unhandled rejection: ${describeError(reason)}${reason instanceof BuslineError ? '' : ' (not a BuslineError)'}`,
    );
  return coverage;
}

function checkSubscription(
  model: RunModel,
  sub: SubRecord,
  final: FinalState,
  known: Map<string, Known>,
  truth: Known[],
  trimmedFor: (sub: SubRecord, e: Known) => boolean,
): number {
  const report = (invariant: string, detail: string) => model.violate(invariant, `${sub.key}: ${detail}`);
  const where = `'${sub.pattern}'${sub.stream ? ` in ${sub.stream}` : ''}${sub.filter ? ' (filter)' : ''} from ${JSON.stringify(sub.start)}`;
  const seen = new Set<string>();
  const lastByStream = new Map<string, string>();
  const resumeAfter = typeof sub.start === 'object' ? sub.start.after : undefined;
  let previous: string | undefined;
  for (const d of sub.delivered) {
    const stored = known.get(d.cursor);
    if (stored === undefined || stored.id !== d.id || stored.type !== d.type || stored.stream !== d.stream)
      report('no-phantom-delivery', `got ${d.id}@${d.cursor}, which the store does not hold`);
    else if (!selects(sub, stored))
      report('no-phantom-delivery', `got ${d.id} ${d.type}/${d.stream}, not selected by ${where}`);
    if (seen.has(d.cursor)) report('no-duplicate-delivery', `got ${d.id}@${d.cursor} twice`);
    if (resumeAfter !== undefined && d.cursor <= resumeAfter)
      report('no-duplicate-delivery', `resumed after ${resumeAfter} yet got ${d.id}@${d.cursor}`);
    seen.add(d.cursor);
    const last = lastByStream.get(d.stream);
    if (last !== undefined && d.cursor < last)
      report('stream-order', `got ${d.id}@${d.cursor} after ${last} in stream ${d.stream}`);
    if (last === undefined || d.cursor > last) lastByStream.set(d.stream, d.cursor);
    // An iterator yields in cursor order (API.md: "every stored event after c in cursor order, then live").
    if (sub.kind === 'iterator' && previous !== undefined && d.cursor < previous)
      report('cursor-order', `got ${d.id}@${d.cursor} after ${previous}`);
    if (previous === undefined || d.cursor > previous) previous = d.cursor;
  }

  if (final.strict && sub.kind === 'iterator' && sub.endReason?.includes('[STORE_UNAVAILABLE]'))
    report('iterator-continues-through-outage', `${where}: ended with ${sub.endReason}`);

  // A subscription that kept consuming owes every event of its universe; one that ended owes
  // what lies before the last event it got in each stream (no holes).
  const complete = final.checkpoint.has(sub);
  const owed = universe(model, sub, truth);
  const required = complete
    ? owed
    : owed.filter((e) => {
        const last = lastByStream.get(e.stream);
        return last !== undefined && e.cursor < last;
      });
  const told = truncationTold(model, sub);
  const first = sub.delivered[0]?.cursor;
  let gaps = 0;
  let silent = 0;
  let gapExample = '';
  let silentExample = '';
  for (const e of required) {
    if (seen.has(e.cursor)) continue;
    if (trimmedFor(sub, e)) {
      if (told) continue;
      // From 'start': what retention removed before the replay reached it was never "retained".
      if (sub.start === 'start' && (first === undefined || e.cursor < first)) continue;
      if (silent++ === 0) silentExample = `${e.id}@${e.cursor}`;
    } else if (gaps++ === 0) gapExample = `${e.id}@${e.cursor} ${e.type}/${e.stream}`;
  }
  const state = complete ? 'open and consuming' : (sub.endReason ?? 'ended');
  const invariant = sub.start === 'now' ? 'live-no-gap' : 'resume-no-gap';
  if (gaps > 0)
    report(
      invariant,
      `${where}: missed ${gaps} of ${required.length} owed events (first ${gapExample}); got ${sub.delivered.length}; ${state}; fence ${sub.fence}`,
    );
  if (silent > 0)
    report(
      'no-silent-truncation',
      `${where}: ${silent} owed event(s) were trimmed before delivery and no HISTORY_TRUNCATED was told (first ${silentExample})`,
    );

  // Truncation told: only with retention, and only when retention removed something after its position.
  if (sub.kind === 'iterator' && sub.truncations.length > 0) {
    const t = sub.truncations[0]!;
    if (!final.retention)
      report(
        'no-spurious-truncation',
        `${where}: told HISTORY_TRUNCATED (${t.how}) although nothing was trimmed`,
      );
    else {
      const justified = truth.some(
        (e) =>
          trimmedFor(sub, e) && (t.position === undefined || e.cursor > t.position) && !seen.has(e.cursor),
      );
      if (!justified)
        report(
          'no-spurious-truncation',
          `${where}: told HISTORY_TRUNCATED (${t.how}) but retention removed nothing after its position ${t.position ?? '(none)'}`,
        );
    }
  }
  return required.length;
}
