import { checkSubscriptionCount } from './check-counts.js';
import type { BusRecord, SubRecord } from './model.js';
import type { World } from './world.js';

/**
 * How many more events a full `block` iterator or handler queue without a store may hold for
 * publishers that did not wait: max(its bound, 1,024) (API.md "Delivery rules"; the docs of
 * `overflow: 'block'` and `maxPending`). Past it the bus drops and reports instead of growing.
 */
export const BLOCKED_PUBLISHES = 1024;

/** stats().subscriptions is compared every this many steps (a full stats() each step costs too much). */
const COUNT_EVERY_STEPS = 8;

/**
 * Bounds that must hold at every moment: called after every scheduler step. Each subscription
 * and bus is reported once per invariant, at the first step it breaks the bound.
 */
export function checkBounds(world: World, reported: Set<string>): void {
  const { model, config } = world;
  const on = config.invariants;
  if (on.has('buffer-bounded')) {
    for (const sub of model.subs) {
      if (sub.subscription === undefined || reported.has(sub.key)) continue;
      const stats = sub.subscription.stats();
      const bound = bufferBound(model.buses[sub.bus]!, sub);
      if (stats.buffered > bound) {
        reported.add(sub.key);
        model.violate(
          'buffer-bounded',
          `${sub.key} holds ${stats.buffered} events with bufferSize ${sub.bufferSize}, overflow ${sub.overflow} (bound ${bound})`,
        );
      }
    }
  }
  const countNow = world.sched.steps % COUNT_EVERY_STEPS === 0;
  for (const bus of model.buses) {
    if (bus === undefined || bus.closeCalled) continue;
    const queues = on.has('handler-queue-bounded') && bus.handlerSubs.length > 0;
    const waiters = on.has('rate-waiters-bounded') && bus.limiter !== undefined;
    if (!queues && !waiters && !countNow) continue;
    const stats = bus.bus.stats();
    if (queues && !reported.has(`bus${bus.index}/queues`)) {
      const bound = handlerBound(bus);
      if (stats.pendingHandlers > bound) {
        reported.add(`bus${bus.index}/queues`);
        model.violate(
          'handler-queue-bounded',
          `bus${bus.index} has ${stats.pendingHandlers} pending handler calls; its subscriptions allow ${bound}`,
        );
      }
    }
    const waiting = stats.rateLimit?.waiting ?? 0;
    if (waiters && waiting > bus.limiter!.maxWaiting && !reported.has(`bus${bus.index}/waiters`)) {
      reported.add(`bus${bus.index}/waiters`);
      model.violate(
        'rate-waiters-bounded',
        `bus${bus.index}'s rate limiter has ${waiting} delay waiters; maxWaiting is ${bus.limiter!.maxWaiting}`,
      );
    }
    if (countNow) checkSubscriptionCount(world, bus, stats.subscriptions, reported);
  }
}

function bufferBound(bus: BusRecord, sub: SubRecord): number {
  // Without a store `block` holds publishers' events past the buffer; with one it catches up.
  const blocked = bus.store === 'none' && sub.overflow === 'block';
  return sub.bufferSize + (blocked ? Math.max(sub.bufferSize, BLOCKED_PUBLISHES) : 0);
}

/**
 * Calls running (at most `concurrency` per subscription, even after unsubscribing), and per
 * live subscription the calls queued (`maxPending`) and, with a store, one catch-up read
 * (counted too, see BusStats) or, without one, the calls whose publishers wait for room.
 */
function handlerBound(bus: BusRecord): number {
  let bound = 0;
  for (const sub of bus.handlerSubs) {
    const open = sub.endedOrdinal === undefined;
    if (bus.store === 'none')
      bound += sub.concurrency + (open ? sub.maxPending + Math.max(sub.maxPending, BLOCKED_PUBLISHES) : 0);
    // A catch-up read may still be under way after unsubscribing.
    else bound += sub.concurrency + 1 + (open ? sub.maxPending : 0);
  }
  return bound;
}
