import type { Invariant } from './flags.js';
import type { BusRecord } from './model.js';
import { selects } from './selection.js';
import type { World } from './world.js';

/**
 * A bus without a store has no log to compare with: its ground truth is its own publishes.
 * Its subscriptions may lose events to their overflow policy, so only these hold: an id is
 * delivered once (dedup's window outlasts the run; publishBatch is judged apart, see
 * known-violations), a 'duplicate' names an id already delivered (seen only once delivered),
 * and a subscription gets only what was published here, matching its selection, once.
 */
export function checkNoStoreBus(world: World, bus: BusRecord): void {
  const { model } = world;
  const on = (i: Invariant) => world.config.invariants.has(i);
  const publishes = model.publishes.filter((p) => p.bus === bus.index);
  /** Ids with a 'delivered' result (how many), ids published (with their type and stream), ids still under way. */
  const delivered = new Map<string, number>();
  const published = new Map<string, { type: string; stream: string }>();
  const underWay = new Set<string>();
  /** Publishes that may have dispatched an id (delivered, or still held by backpressure), and whether a batch did. */
  const dispatchers = new Map<string, { count: number; batch: boolean }>();
  const dispatched = (id: string, batch: boolean) => {
    const d = dispatchers.get(id) ?? { count: 0, batch: false };
    dispatchers.set(id, { count: d.count + 1, batch: d.batch || batch });
  };
  for (const p of publishes) {
    p.ids.forEach((id, i) => {
      published.set(id, { type: p.types[i]!, stream: p.streams[i]! });
      if (p.results !== undefined || p.error !== undefined) return;
      underWay.add(id);
      dispatched(id, p.batch);
    });
    for (const r of p.results ?? []) {
      if (r.status !== 'delivered') continue;
      delivered.set(r.id, (delivered.get(r.id) ?? 0) + 1);
      dispatched(r.id, p.batch);
    }
  }
  // Several publishes that dispatched one id: that, not the subscriptions that then got it
  // twice, is reported; apart when a publishBatch was one of them (the known defect).
  const twice = (id: string) => (dispatchers.get(id)?.count ?? 0) > 1;
  const which = (id: string): Invariant =>
    dispatchers.get(id)?.batch ? 'batch-id-delivered-once' : 'id-delivered-once';
  const once = new Set<string>();
  const report = (i: Invariant, detail: string) => {
    if (!on(i) || once.has(i)) return;
    once.add(i);
    model.violate(i, `bus${bus.index} (no store): ${detail}`);
  };
  for (const p of publishes) {
    for (const r of p.results ?? []) {
      if (r.status === 'delivered' && (delivered.get(r.id) ?? 0) > 1)
        report(which(r.id), `${r.id} was delivered by ${delivered.get(r.id)} publishes (last ${p.key})`);
      // An id is seen once dispatched: a publish still held by backpressure has done that.
      else if (r.status === 'duplicate' && !delivered.has(r.id) && !underWay.has(r.id))
        report('id-seen-only-once-stored', `${p.key}: ${r.id} came back 'duplicate' but was never delivered`);
      else if (r.status === 'rate_limited' && bus.limiter?.onLimit !== 'drop')
        report(
          'publish-ack-stored',
          `${p.key}: ${r.id} came back 'rate_limited' with onLimit ${bus.limiter?.onLimit}`,
        );
    }
  }
  for (const sub of model.subs) {
    if (sub.bus !== bus.index) continue;
    const seen = new Set<string>();
    for (const d of sub.delivered) {
      const p = published.get(d.id);
      if (
        p === undefined ||
        (!delivered.has(d.id) && !underWay.has(d.id)) ||
        p.type !== d.type ||
        p.stream !== d.stream
      )
        report(
          'no-phantom-delivery',
          `${sub.key} got ${d.id} ${d.type}/${d.stream}, which this bus never delivered`,
        );
      else if (!selects(sub, d))
        report('no-phantom-delivery', `${sub.key} got ${d.id} ${d.type}/${d.stream}, outside its selection`);
      if (seen.has(d.id))
        report(
          twice(d.id) ? which(d.id) : 'no-duplicate-delivery',
          `${sub.key} got ${d.id} twice${twice(d.id) ? `, dispatched by ${dispatchers.get(d.id)!.count} publishes (some still held)` : ''}`,
        );
      seen.add(d.id);
    }
  }
}
