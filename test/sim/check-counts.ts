import type { BusStats } from './lib.js';
import type { BusRecord } from './model.js';
import { matches } from './patterns.js';
import { selects } from './selection.js';
import type { World } from './world.js';

/**
 * What the bus counts, against what the actors did (issue #13, defect 11): user subscriptions
 * only (never the bus's own consumer-group watchers), and the busiest streams kept.
 */

/** Open user subscriptions of a bus: handlers not removed, iterators still taking events, pending once(). */
export function openUserSubscriptions(world: World, bus: BusRecord): number {
  let open = 0;
  for (const sub of bus.handlerSubs) if (sub.endedOrdinal === undefined) open++;
  for (const sub of world.model.subs)
    if (sub.bus === bus.index && sub.kind === 'iterator' && sub.subscription?.stats().state === 'open')
      open++;
  for (const once of bus.onces) if (once.settledOrdinal === undefined) open++;
  return open;
}

export function checkSubscriptionCount(
  world: World,
  bus: BusRecord,
  counted: number,
  reported: Set<string>,
): void {
  const key = `bus${bus.index}/subscriptions`;
  if (!world.config.invariants.has('stats-subscriptions') || reported.has(key)) return;
  const open = openUserSubscriptions(world, bus);
  if (counted === open) return;
  reported.add(key);
  const groups = bus.consumers.filter((c) => c.consumer !== undefined).length;
  world.model.violate(
    'stats-subscriptions',
    `bus${bus.index}.stats().subscriptions is ${counted} at t=${world.sched.now}; the actors hold ${open} open (and ${groups} consumer(s), not subscriptions)`,
  );
}

/**
 * A stream with over 1% of the bus's events is in stats().streams (top 100), never
 * under-counted, and first unless another stream's count is within the sketch's error
 * (N/1000 with 1,000 counters). True counts: the publishes that resolved 'delivered'.
 */
export function checkBusiestStream(world: World, bus: BusRecord, stats: BusStats): void {
  if (!world.config.invariants.has('stats-busiest-stream')) return;
  const counts = new Map<string, number>();
  let total = 0;
  for (const p of world.model.publishes) {
    if (p.bus !== bus.index) continue;
    if (p.results === undefined && p.error === undefined) return; // a publish still under way: counts unknown
    p.results?.forEach((r, i) => {
      if (r.status !== 'delivered') return;
      counts.set(p.streams[i]!, (counts.get(p.streams[i]!) ?? 0) + 1);
      total++;
    });
  }
  let busiest: string | undefined;
  let most = 0;
  for (const [stream, n] of counts) if (n > most) [busiest, most] = [stream, n];
  if (busiest === undefined || most * 100 <= total) return;
  const listed = stats.streams.find((s) => s.stream === busiest);
  const first = stats.streams[0];
  const slack = Math.ceil(total / 1000);
  let problem: string | undefined;
  if (listed === undefined) problem = 'is not listed';
  else if (listed.published < most) problem = `is counted ${listed.published}`;
  else if ((counts.get(first!.stream) ?? 0) < most - slack)
    problem = `comes after ${first!.stream} (${first!.published} counted, ${counts.get(first!.stream) ?? 0} published)`;
  if (problem !== undefined)
    world.model.violate(
      'stats-busiest-stream',
      `bus${bus.index}: stream ${busiest} has ${most} of ${total} events over ${counts.size} streams, yet ${problem} in stats().streams`,
    );
}

/** deliveredTo of a resolved publish is at most the matching user subscriptions its bus had by then. */
export function checkDeliveredTo(world: World): void {
  if (!world.config.invariants.has('delivered-to-counts-users')) return;
  const { model } = world;
  let reported = 0;
  for (const p of model.publishes) {
    if (p.results === undefined || reported >= 3) continue;
    const bus = model.buses[p.bus]!;
    const subs = model.subs.filter((s) => s.bus === p.bus && s.registeredOrdinal < p.settledOrdinal!);
    const onces = bus.onces.filter((o) => o.registeredOrdinal < p.settledOrdinal!);
    p.results.forEach((r, i) => {
      if (r.status !== 'delivered') return;
      const event = { id: r.id, type: p.types[i]!, stream: p.streams[i]! };
      const users =
        subs.filter((s) => selects(s, event)).length +
        onces.filter((o) => matches(o.pattern, event.type)).length;
      if (r.deliveredTo <= users) return;
      reported++;
      model.violate(
        'delivered-to-counts-users',
        `${p.key}: ${r.id} ${event.type}/${event.stream} resolved deliveredTo ${r.deliveredTo}; bus${p.bus} had ${users} matching user subscription(s)${bus.consumers.length ? ` and ${bus.consumers.length} consumer(s)` : ''}`,
      );
    });
  }
}
