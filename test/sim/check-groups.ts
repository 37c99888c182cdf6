import type { BusRecord, ConsumerRecord, GroupCall } from './model.js';
import { matches } from './patterns.js';
import { describe, type World } from './world.js';

/**
 * Consumer groups at the checkpoint (API.md "Consumer groups"): every event matching a group
 * and stored after its first consume() resolved was handled at least once, never past
 * maxDeliveries, and ended acknowledged (a call resolved) or in the dead letters (after
 * maxDeliveries failed calls) — not both, and nothing is left pending. An event retention
 * removed before the group read it is excused (the group is told, or cannot be: see
 * known-violations). Run before teardown: closing consumers hands their work back.
 */
/**
 * Owed are events stored this long before the checkpoint: room for every delivery to time
 * out (ackTimeoutMs ≤ 400) and be retried (backoff ≤ 800 ms) — a `delay` limiter may store a
 * burst's last events late in the calm period.
 */
const GROUP_SETTLE_MS = 6000;

export async function checkGroups(world: World): Promise<void> {
  if (!world.config.invariants.has('group-at-least-once')) return;
  for (const bus of world.model.buses) {
    if (bus === undefined) continue;
    const joined = bus.consumers.filter((c) => c.resolvedOrdinal !== undefined);
    if (joined.length > 0) await checkGroup(world, bus, joined);
  }
}

async function checkGroup(world: World, bus: BusRecord, consumers: ConsumerRecord[]): Promise<void> {
  const { model, store } = world;
  const { group, pattern, maxDeliveries } = consumers[0]!;
  const report = (detail: string) =>
    model.violate('group-at-least-once', `bus${bus.index} group ${group}: ${detail}`);
  let letters: Map<string, number>;
  try {
    const list = await bus.bus.deadLetters(group).list();
    letters = new Map(list.map((l) => [l.event.id, l.deliveries]));
  } catch (error) {
    report(`deadLetters().list() rejected ${describe(error)}`);
    return;
  }
  const calls = new Map<string, GroupCall[]>();
  for (const c of consumers)
    for (const call of c.calls) calls.set(call.cursor, [...(calls.get(call.cursor) ?? []), call]);
  const since = Math.min(...consumers.map((c) => c.resolvedOrdinal!));
  const lastOwed = world.sched.now - GROUP_SETTLE_MS;
  // An id retention let the store keep twice is two events to the group's reads but one to its
  // dead letters (by id, as ids are meant to be unique): not judged.
  const stored = new Map<string, number>();
  for (const r of store.log) stored.set(r.event.id, (stored.get(r.event.id) ?? 0) + 1);
  const problems: string[] = [];
  let owed = 0;
  /** Matching events stored too late to be owed: the group may still hold them at the checkpoint. */
  let late = 0;
  /** When the owed work could end at the latest, each event started no earlier than it was stored. */
  let worstEnd = 0;
  const slots = consumers.reduce((n, c) => n + c.concurrency, 0);
  // Each delivery may hold a slot for ackTimeoutMs (and a retry waits its backoff).
  const worstPerEvent = (maxDeliveries * (consumers[0]!.ackTimeoutMs + 20)) / slots;
  // Events stored before the group joined are not owed, but the group may handle them anyway
  // (its start was read before they were stored), ahead of what is owed: from the first one it
  // handled on, they count as work before the owed events (simulation seed 148926).
  let firstWork = Number.POSITIVE_INFINITY;
  for (const r of store.log)
    if (r.appliedOrdinal <= since && calls.has(r.cursor)) firstWork = Math.min(firstWork, r.appliedOrdinal);
  for (const r of store.log) {
    if (!matches(pattern, r.event.type)) continue;
    if (r.appliedOrdinal <= since) {
      if (r.appliedOrdinal >= firstWork) worstEnd = Math.max(worstEnd, r.appliedAt) + worstPerEvent;
      continue;
    }
    if (r.appliedAt > lastOwed) {
      late++;
      continue;
    }
    worstEnd = Math.max(worstEnd, r.appliedAt) + worstPerEvent;
    if (stored.get(r.event.id)! > 1) continue;
    owed++;
    const mine = calls.get(r.cursor) ?? [];
    const deliveries = letters.get(r.event.id);
    const acked = mine.some((c) => c.outcome === 'ok');
    const what = `${r.event.id}@${r.cursor} ${r.event.type}`;
    if (mine.length === 0) {
      if (r.trimmedOrdinal === undefined) problems.push(`${what} was never handled`);
    } else if (mine.some((c) => c.deliveries > maxDeliveries))
      problems.push(
        `${what} was delivered ${Math.max(...mine.map((c) => c.deliveries))} times (maxDeliveries ${maxDeliveries})`,
      );
    else if (!acked && deliveries === undefined)
      problems.push(`${what} is neither acknowledged nor dead-lettered (calls: ${outcomes(mine)})`);
    else if (acked && deliveries !== undefined) problems.push(`${what} was acknowledged and dead-lettered`);
    else if (deliveries !== undefined && deliveries !== maxDeliveries)
      problems.push(
        `${what} was dead-lettered after ${deliveries} deliveries (maxDeliveries ${maxDeliveries})`,
      );
  }
  // A burst can be more work than the calm allows.
  if (worstEnd > lastOwed) {
    world.sched.log(
      `bus${bus.index} group ${group}: ${owed} events may keep it busy until t=${Math.round(worstEnd)}, past t=${lastOwed}: not judged`,
    );
    return;
  }
  if (problems.length > 0)
    report(
      `${problems.length} of ${owed} events owed: ${problems.slice(0, 3).join('; ')}${problems.length > 3 ? '; …' : ''}`,
    );
  // Events stored in the last GROUP_SETTLE_MS may still be pending, rightly.
  if (late > 0) return;
  for (const c of consumers) {
    const pending = c.consumer!.stats().pending;
    if (pending > 0) {
      report(
        `${c.key} reports ${pending} unacknowledged event(s) at the checkpoint, after ${world.config.settleMs} ms of calm`,
      );
      break;
    }
  }
}

function outcomes(calls: GroupCall[]): string {
  return calls.map((c) => `#${c.deliveries} ${c.outcome} t=${c.startAt}`).join(', ');
}
