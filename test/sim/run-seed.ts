// Loaded up front: a bus loads its consumer groups on first use, and its shared-store delivery
// when given a shared store, and a dynamic import under tsx or vitest takes a real turn of the
// event loop, which virtual time cannot order. Once loaded, every bus gets them at once (see
// src/groups/load-consumer-groups.ts and src/bus/load-shared-delivery.ts).
import '../../src/bus/shared-delivery.js';
import '../../src/groups/consumer-groups.js';
import { startBus } from './actors.js';
import { checkBounds } from './bounds.js';
import { checkBusiestStream, checkSubscriptionCount } from './check-counts.js';
import { checkGroups } from './check-groups.js';
import { checkRun } from './checker.js';
import { defaultConfig, type Invariant, type SimConfig } from './flags.js';
import { readOne } from './iterators.js';
import { Model, type SubRecord, type Violation } from './model.js';
import { Prng } from './prng.js';
import { Scheduler } from './scheduler.js';
import { SimStore } from './sim-store.js';
import { installVirtualTime } from './virtual-time.js';
import type { World } from './world.js';

export interface SeedResult {
  seed: number;
  violations: Violation[];
  /** Invariants broken in this run (each counted once). */
  broken: Set<Invariant>;
  trace: string[];
  steps: number;
  events: number;
}

/**
 * One seed, start to finish:
 * 1. actors and planned faults run until the horizon;
 * 2. the run settles (no new actions, no new faults) and the checkpoint is taken;
 * 3. the buses close and every wait must settle;
 * 4. the checker compares what the actors saw with the store's log.
 */
export async function runSeed(seed: number, config: SimConfig = defaultConfig()): Promise<SeedResult> {
  const root = new Prng(seed);
  const sched = new Scheduler(root.fork(), config.trace);
  const store = new SimStore(sched, root.fork(), config.faults);
  const model = new Model(sched, config.invariants);
  const world: World = {
    sched,
    store,
    model,
    config,
    rng: root.fork(),
    calm: false,
    nextEventId: 1,
    readyWaiters: new Map(),
    privateStores: new Map(),
    laterChoices: new Prng(seed ^ 0x2545f491),
    seed,
  };
  const restoreTimers = installVirtualTime(sched);
  const restoreRejections = captureUnhandledRejections(model.unhandled);
  const reported = new Set<string>();
  sched.afterStep = () => checkBounds(world, reported);
  sched.log(`seed ${seed}`);
  try {
    planBuses(world);
    planFaults(world, root.fork());
    await sched.runUntil(config.horizonMs);
    world.calm = true;
    store.calm = true;
    sched.log('-- horizon: no new actions or faults; settling --');
    await sched.runUntil(config.horizonMs + config.settleMs);
    const open = new Set<SubRecord>(model.subs.filter((s) => s.endedOrdinal === undefined));
    const checkpointOrdinal = sched.tick();
    await checkpoint(world, reported);
    sched.log('-- checkpoint; closing every bus --');
    await teardown(world);
    checkRun(world, open, checkpointOrdinal, sched.now);
    for (const crash of sched.crashes)
      model.violate('unexpected-throw', `task ${crash.label} threw ${String(crash.error)}`);
  } finally {
    sched.afterStep = undefined;
    restoreTimers();
    restoreRejections();
  }
  return {
    seed,
    violations: model.violations,
    broken: new Set(model.violations.map((v) => v.invariant)),
    trace: sched.trace,
    steps: sched.steps,
    events: store.log.length,
  };
}

function planBuses(world: World): void {
  const rng = world.rng.fork();
  const count = rng.int(...world.config.buses);
  for (let i = 0; i < count; i++) startBus(world, i, i === 0 ? 0 : rng.int(0, 800));
}

/** Store faults at moments the seed picks, all before the horizon. */
function planFaults(world: World, rng: Prng): void {
  const { sched, store, config } = world;
  const f = config.faults;
  const h = config.horizonMs;
  if (f.tailDrops)
    for (let i = rng.int(0, 4); i > 0; i--)
      sched.schedule(rng.int(0, h), 'fault: tail drop', () => store.dropTail());
  if (f.retentionTrims) {
    for (let i = rng.int(0, 4); i > 0; i--) {
      const count = rng.int(1, 6);
      const minAge = rng.int(0, 400);
      sched.schedule(rng.int(300, h), 'fault: retention', () => store.trim(count, minAge));
    }
  }
  if (f.feedBursts) {
    for (let i = rng.int(0, 2); i > 0; i--) {
      const ms = rng.int(50, 800);
      sched.schedule(rng.int(0, h), 'fault: feed stall', () => store.stallFeeds(ms));
    }
  }
  if (f.outages && rng.chance(0.3)) {
    // Sometimes from the very start, so buses come up with the store unreachable.
    const at = rng.chance(0.4) ? 0 : rng.int(0, h - 500);
    const length = rng.int(100, 2500);
    const mode = rng.chance(0.5) ? 'refuse' : 'hang';
    sched.schedule(at, 'fault: outage', () => store.beginOutage(mode));
    sched.schedule(at + length, 'fault: outage over', () => store.endOutage());
  }
}

/** What can only be read while the buses are open: their stats, consumer groups and dead letters. */
async function checkpoint(world: World, reported: Set<string>): Promise<void> {
  for (const bus of world.model.buses) {
    if (bus === undefined) continue;
    const stats = bus.bus.stats();
    checkSubscriptionCount(world, bus, stats.subscriptions, reported);
    checkBusiestStream(world, bus, stats);
  }
  await checkGroups(world);
}

async function teardown(world: World): Promise<void> {
  const { sched, model, config } = world;
  for (const bus of model.buses) {
    if (bus === undefined) continue;
    bus.closeCalled = true;
    const stuck = bus.handlerSubs.some((s) => !s.healthy);
    sched.log(`bus${bus.index}.close()${stuck ? ' (a handler of it never resolves)' : ''}`);
    let closing: Promise<void>;
    try {
      closing = bus.bus.close();
    } catch (error) {
      model.violate('unexpected-throw', `bus${bus.index}.close() threw ${String(error)}`);
      continue;
    }
    model.track(`bus${bus.index}.close()`, closing, {
      hangInvariant: stuck ? 'close-with-stuck-handler' : 'waits-settle',
    });
  }
  // Readers that stopped reading read what is left: close() ends iterators after their buffer.
  for (const sub of model.subs) {
    if (sub.subscription === undefined || sub.reading || sub.endedOrdinal !== undefined) continue;
    void drain(world, sub);
  }
  await sched.runUntil(sched.now + config.teardownMs);
  // One more next() on every iterator: after close it must settle at once.
  for (const sub of model.subs) {
    if (sub.subscription === undefined || sub.reading) continue;
    model.track(`${sub.key}.next() after close`, sub.subscription.next());
  }
  await sched.runUntil(sched.now + 100);
}

async function drain(world: World, sub: SubRecord): Promise<void> {
  sub.reading = true;
  for (let i = 0; i < 1000; i++) if (!(await readOne(world, sub, sub.subscription!))) break;
  sub.reading = false;
}

/**
 * Rejections nobody handled during the run are the library's (the actors handle theirs).
 * The test runner's own listener is set aside meanwhile, so they are counted, not fatal.
 */
function captureUnhandledRejections(into: unknown[]): () => void {
  const saved = process.listeners('unhandledRejection');
  process.removeAllListeners('unhandledRejection');
  const listener = (reason: unknown) => into.push(reason);
  process.on('unhandledRejection', listener);
  return () => {
    process.off('unhandledRejection', listener);
    for (const l of saved) process.on('unhandledRejection', l);
  };
}
