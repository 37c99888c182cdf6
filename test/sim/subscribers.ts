import { handlerSubscriber } from './handlers.js';
import { iteratorSubscriber } from './iterators.js';
import type { BusRecord } from './model.js';
import type { Prng } from './prng.js';
import { connected, type World } from './world.js';

/**
 * Subscribers: `on()` handlers (handlers.ts) or iterators (iterators.ts), each starting at a
 * moment the seed picks, most once their bus is connected.
 */
export async function subscriber(world: World, record: BusRecord, s: number, rng: Prng): Promise<void> {
  const { sched } = world;
  await sched.sleep(rng.int(0, 1500), `bus${record.index}.sub${s} wakes`);
  if (rng.chance(0.8)) await connected(world, record);
  if (world.calm) return;
  if (rng.chance(0.4)) handlerSubscriber(world, record, `bus${record.index}.on${s}`, rng);
  else await iteratorSubscriber(world, record, `bus${record.index}.it${s}`, rng, undefined, 0);
}
