import { cursorOf, seqOf } from './cursors.js';
import type { SubRecord } from './model.js';
import { selects } from './selection.js';
import type { FeedHandOver } from './sim-store.js';
import type { World } from './world.js';

/**
 * Nobody slows anyone else (issue #13, defects 5 and 6): a full `block` iterator must not hold
 * the shared feed, and a slow or stuck handler must not hold another handler's calls.
 *
 * The reference is the moment an event reached the bus's tail connection ("offered"): the feed
 * takes it in the same step when it keeps reading, so a sync handler is called at once. A fast
 * async handler (at most 3 ms a call, concurrency 1) may also wait for its own previous call
 * and, when its queue filled, for a catch-up read (at most 35 ms here) — never for others.
 * Store outages are excused (reads are retried after 250 ms), and so is everything after the
 * bus's feed lost its place (the subscriptions then read from the store). An event the feed
 * took while the handler was subscribed that never gets a call is the latest of all.
 */
const SYNC_LIMIT_MS = 100;
const ASYNC_LIMIT_MS = 150;
/** After an outage ends, reads that failed are retried (250 ms later) and then caught up. */
const OUTAGE_MARGIN_MS = 600;
/** An event the feed took this close to the checkpoint may still be on its way. */
const IN_FLIGHT_MS = 1000;

export function checkLatency(world: World): void {
  if (!world.config.invariants.has('subscriber-latency')) return;
  for (const sub of world.model.subs) {
    if (sub.kind !== 'handler' || !sub.healthy || (sub.behavior !== 'sync' && sub.behavior !== 'fast'))
      continue;
    const bus = world.model.buses[sub.bus]!;
    const feed = world.store.feeds.get(sub.bus);
    if (bus.store === 'none' || feed === undefined) continue;
    const lostAt = bus.gaps[0]?.lostAt ?? Number.POSITIVE_INFINITY;
    const limit = sub.behavior === 'sync' ? SYNC_LIMIT_MS : ASYNC_LIMIT_MS;
    let previousEnd = Number.NEGATIVE_INFINITY;
    let late = 0;
    let example = '';
    for (const call of sub.calls) {
      const handed = feed.get(seqOf(call.cursor));
      const ready = handed && Math.max(handed.offeredAt, sub.behavior === 'fast' ? previousEnd : 0);
      previousEnd = call.endAt ?? Number.POSITIVE_INFINITY;
      if (ready === undefined || ready >= lostAt || call.startAt - ready <= limit) continue;
      if (sub.behavior === 'fast' && duringOutage(world, ready, call.startAt)) continue;
      if (++late === 1)
        example = `${call.id} reached bus${sub.bus}'s feed at t=${handed!.offeredAt}, the feed took it at t=${handed!.handedAt}, the call started at t=${call.startAt}`;
    }
    const never = neverCalled(world, sub, feed, lostAt);
    if (never.length > 0 && ++late === 1)
      example = `${never[0]!.id} reached bus${sub.bus}'s feed at t=${never[0]!.at} and never got a call (${never.length} such)`;
    if (late > 0) report(world, sub, late, limit, example);
  }
}

/** Events the bus's feed took while an open handler was subscribed, matching it, that it never got a call for. */
function neverCalled(
  world: World,
  sub: SubRecord,
  feed: Map<number, FeedHandOver>,
  lostAt: number,
): { id: string; at: number }[] {
  // One that ended may have been working through a backlog: its calls were judged one by one.
  if (sub.endedAt !== undefined) return [];
  const called = new Set(sub.calls.map((c) => c.cursor));
  const until = Math.min(lostAt, checkpointAt(world) - IN_FLIGHT_MS);
  const missed: { id: string; at: number }[] = [];
  for (const [seq, handed] of feed) {
    if (handed.handedAt <= sub.registeredAt || handed.handedAt >= until || called.has(cursorOf(seq)))
      continue;
    const record = world.store.log[seq - 1]!;
    // Trimmed before a catch-up read it: reported as truncation, not owed here.
    if (record.trimmedOrdinal === undefined && selects(sub, record.event))
      missed.push({ id: record.event.id, at: handed.handedAt });
  }
  return missed;
}

function checkpointAt(world: World): number {
  return world.config.horizonMs + world.config.settleMs;
}

function duringOutage(world: World, from: number, to: number): boolean {
  return world.store.outages.some((o) => o.from <= to && o.to + OUTAGE_MARGIN_MS >= from);
}

function report(world: World, sub: SubRecord, late: number, limit: number, example: string): void {
  world.model.violate(
    'subscriber-latency',
    `${sub.key}: ${late} of ${sub.calls.length} calls started over ${limit} ms after they could (first: ${example})`,
  );
}
