import type { Subscription } from './lib.js';
import type { BusRecord } from './model.js';
import type { Prng } from './prng.js';
import { makeEvent, publish, type SimEvent } from './publishers.js';
import { end, newSub, startCall } from './sub-records.js';
import { connected, describe, type World } from './world.js';

/**
 * Load the plain publishers never make. A burst (40–130 events) gives a never-settling
 * handler more calls than the old bus-wide pool had slots (64), fills queues so they catch
 * up, and meets a `delay` limiter's waiter bound. A flood (over 1,000 events over over 1,000
 * streams, on a bus without a store) passes the 1,024 publishes a full `block` queue may hold
 * and the 1,000 streams stats() tracks.
 */

/** Fires a burst, as one batch or as publishes nobody awaits. */
export async function burster(world: World, record: BusRecord, rng: Prng): Promise<void> {
  const { sched } = world;
  const name = `bus${record.index}.burst`;
  await sched.sleep(rng.int(0, world.config.horizonMs - 500), `${name} wakes`);
  if (world.calm || record.closeCalled) return;
  if (rng.chance(0.7)) await connected(world, record);
  if (world.calm || record.closeCalled) return;
  // Half the time a handler elsewhere is wedged meanwhile: the burst gives it more calls than the
  // old bus-wide pool had slots (64), and everyone else on its bus must go on regardless.
  const stores = world.model.buses.filter((b) => b && b.store !== 'none' && !b.closeCalled);
  if (rng.chance(0.5) && stores.length > 0 && world.config.actors.neverResolvingHandlers)
    stuckHandler(world, rng.pick(stores), rng, '**');
  const events = Array.from({ length: rng.int(40, 130) }, () => makeEvent(world, rng));
  fire(world, record, name, events, rng);
}

/** A flood's first events share one stream, seen before its one-off streams: the busiest, which stats() must keep. */
const HOT_EVENTS = 20;
const FLOOD_TYPE = 'flood';

export async function flooder(world: World, record: BusRecord, rng: Prng): Promise<void> {
  const { sched } = world;
  const name = `bus${record.index}.flood`;
  await sched.sleep(rng.int(200, world.config.horizonMs - 500), `${name} wakes`);
  if (world.calm || record.closeCalled) return;
  if (world.config.actors.stallingReaders) stalledReader(world, record, rng);
  if (rng.chance(0.5) && world.config.actors.neverResolvingHandlers)
    stuckHandler(world, record, rng, FLOOD_TYPE);
  const count = rng.int(1040, 1100);
  const events = Array.from({ length: count }, (_, i) =>
    makeEvent(world, rng, FLOOD_TYPE, i < HOT_EVENTS ? 'hot' : `f${i}`),
  );
  fire(world, record, name, events, rng);
}

function fire(world: World, record: BusRecord, name: string, events: SimEvent[], rng: Prng): void {
  world.sched.log(`${name}: ${events.length} events at once`);
  if (rng.chance(0.5)) void publish(world, record, name, events, true, rng.fork(), 0);
  else for (const event of events) void publish(world, record, name, [event], false, rng.fork(), 0);
}

/** A `block` reader that stopped reading (a stalled SSE client): the flood must not grow it past its bound. */
function stalledReader(world: World, record: BusRecord, rng: Prng): void {
  const bufferSize = rng.int(1, 4);
  const sub = newSub(
    world,
    record,
    `bus${record.index}.flood-reader`,
    'iterator',
    'stop',
    FLOOD_TYPE,
    undefined,
    'now',
  );
  sub.overflow = 'block';
  sub.bufferSize = bufferSize;
  sub.healthy = false;
  world.sched.log(
    `${sub.key} subscribe('${FLOOD_TYPE}', overflow block, bufferSize ${bufferSize}); never reads`,
  );
  try {
    sub.subscription = record.bus.subscribe(FLOOD_TYPE, {
      overflow: 'block',
      bufferSize,
    }) as Subscription<unknown>;
  } catch (error) {
    world.model.violate('unexpected-throw', `${sub.key} subscribe() threw ${describe(error)}`);
    end(world, sub, 'subscribe() threw');
  }
}

/** A handler that never settles: its queue fills (without a store, publishes then wait on it). */
function stuckHandler(world: World, record: BusRecord, rng: Prng, pattern: string): void {
  const sub = newSub(
    world,
    record,
    `bus${record.index}.stuck${world.model.subs.length}(never)`,
    'handler',
    'never',
    pattern,
    undefined,
    'now',
  );
  sub.maxPending = rng.int(1, 4);
  sub.healthy = false;
  record.handlerSubs.push(sub);
  world.sched.log(`${sub.key} on('${pattern}', maxPending ${sub.maxPending}); never settles`);
  try {
    record.bus.on(
      pattern,
      (event) => {
        startCall(world, sub, event);
        return new Promise(() => {});
      },
      { maxPending: sub.maxPending },
    );
  } catch (error) {
    world.model.violate('unexpected-throw', `${sub.key} on() threw ${describe(error)}`);
    end(world, sub, 'on() threw');
  }
}
