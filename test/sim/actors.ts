import { burster, flooder } from './bursts.js';
import { planBus } from './bus-plans.js';
import { consumers } from './consumers.js';
import { EventBus, type StoredEvent } from './lib.js';
import type { BusRecord, OnceRecord } from './model.js';
import { PrivateStore } from './private-store.js';
import { Prng } from './prng.js';
import { publisher } from './publishers.js';
import { storeView } from './store-view.js';
import { subscriber } from './subscribers.js';
import { checkTyped, code, describe, PATTERNS, type World } from './world.js';

/**
 * The actors of a run: buses over the one simulated store (like processes on one Redis), each
 * with its publishers, subscribers and `once` waiters, starting at moments the seed picks.
 */

/** Creates bus `index` at `at` and starts its actors. */
export function startBus(world: World, index: number, at: number): void {
  const { sched, model, config } = world;
  const rng = world.rng.fork();
  let resolveReady!: () => void;
  const readyPromise = new Promise<void>((resolve) => {
    resolveReady = resolve;
  });
  world.readyWaiters.set(index, { promise: readyPromise, resolve: resolveReady });
  const plan = planBus(rng, config, index);
  // Drawn apart from the bus's own stream (see World.laterChoices), always for every bus.
  const privateDraw = world.laterChoices.float();
  const fastPath = world.laterChoices.chance(0.5);
  if (plan.store === 'shared' && index > 0 && config.actors.privateStores && privateDraw < 0.25) {
    plan.store = 'private';
    // Failures on the async port only (the fast path cannot fail): a stream of their own per
    // bus, from the seed and the index, so no other draw moves.
    const failures = config.faults.appendFails
      ? {
          rng: new Prng((world.seed ^ 0x5bd1e995 ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0),
          calm: () => world.calm,
        }
      : undefined;
    world.privateStores.set(index, new PrivateStore(sched, fastPath, failures));
  }
  sched.schedule(at, `bus${index} starts`, () => {
    const record: BusRecord = {
      index,
      bus: undefined as unknown as EventBus,
      store: plan.store,
      limiter: plan.limiter,
      createdOrdinal: sched.tick(),
      readyOrdinal: undefined,
      gaps: [],
      errors: [],
      handlerSubs: [],
      onces: [],
      consumers: [],
      closeCalled: false,
    };
    const own = world.privateStores.get(index);
    sched.log(
      `bus${index}: store ${plan.store}${own ? (own.fastPath ? ' (fast path)' : ' (port)') : ''}${plan.limiter ? `, rate limit ${JSON.stringify(plan.limiter)}` : ''}`,
    );
    record.bus = new EventBus({
      store:
        plan.store === 'none'
          ? null
          : own !== undefined
            ? own.view
            : storeView(world.store, index, plan.store === 'shared'),
      rateLimit: plan.limiter ?? false,
      clock: () => sched.now,
      feedTimeoutMs: config.feedTimeoutMs,
      onError: (error, context) => {
        record.errors.push({
          ordinal: sched.tick(),
          code: code(error),
          source: context.source,
          message: (error as Error)?.message ?? String(error),
        });
        sched.log(`bus${index} onError(${context.source}) ${describe(error)}`);
        if (context.source === 'feed' && code(error) === 'HISTORY_TRUNCATED') void gapLoop(world, record);
      },
    });
    model.buses[index] = record;
    void readyLoop(world, record, resolveReady);
    const publishers = rng.int(...config.publishersPerBus);
    for (let p = 0; p < publishers; p++) void publisher(world, record, p, rng.fork());
    const subscribers = rng.int(...config.subscribersPerBus);
    for (let s = 0; s < subscribers; s++) void subscriber(world, record, s, rng.fork());
    if (config.actors.once && rng.chance(0.3)) void onceWaiter(world, record, rng.fork());
    consumers(world, record, rng.fork());
    if (config.actors.bursts && rng.chance(0.07)) void burster(world, record, rng.fork());
    if (config.actors.floods && plan.store === 'none' && !plan.limiter && rng.chance(0.15))
      void flooder(world, record, rng.fork());
  });
}

/** `await bus.ready()`, retried after a rejection (the contract: STORE_UNAVAILABLE after feedTimeoutMs). */
async function readyLoop(world: World, record: BusRecord, resolved: () => void): Promise<void> {
  const { sched, model, config } = world;
  const name = `bus${record.index}`;
  while (!record.closeCalled) {
    sched.log(`${name}.ready() called`);
    try {
      await model.track(`${name}.ready()`, record.bus.ready(), {
        boundMs: config.feedTimeoutMs + 50,
        invariant: 'ready-bounded',
      });
      record.readyOrdinal = sched.tick();
      sched.log(`${name}.ready() resolved: connected`);
      resolved();
      return;
    } catch (error) {
      sched.log(`${name}.ready() rejected ${describe(error)}`);
      checkTyped(world, `${name}.ready()`, error);
      await sched.sleep(100, `${name} retries ready()`);
    }
  }
}

/**
 * The feed lost its place: the bus is disconnected until `ready()` resolves again. Subscriptions
 * made meanwhile start where the feed is placed again (as ones made before the first `ready()`).
 */
async function gapLoop(world: World, record: BusRecord): Promise<void> {
  const { sched } = world;
  const gap = {
    lostOrdinal: sched.tick(),
    lostAt: sched.now,
    placedOrdinal: undefined as number | undefined,
  };
  record.gaps.push(gap);
  while (!record.closeCalled) {
    try {
      await record.bus.ready();
      gap.placedOrdinal = sched.tick();
      sched.log(`bus${record.index} feed placed again: connected`);
      return;
    } catch {
      await sched.sleep(100, `bus${record.index} waits for the feed again`);
    }
  }
}

async function onceWaiter(world: World, record: BusRecord, rng: Prng): Promise<void> {
  const { sched, model } = world;
  await sched.sleep(rng.int(0, 2000), `bus${record.index}.once wakes`);
  if (world.calm) return;
  const pattern = rng.pick(PATTERNS);
  const timeoutMs = rng.int(50, 600);
  const name = `bus${record.index}.once('${pattern}', ${timeoutMs} ms)`;
  sched.log(`${name} called`);
  // A pending once() is a user subscription: counted in stats() and in deliveredTo.
  const once: OnceRecord = { pattern, registeredOrdinal: sched.tick(), settledOrdinal: undefined };
  record.onces.push(once);
  try {
    const event = await model.track(name, record.bus.once(pattern, { timeoutMs }), {
      boundMs: timeoutMs + 20,
      invariant: 'once-bounded',
    });
    once.settledOrdinal = sched.tick();
    sched.log(`${name} got ${(event as StoredEvent).id}`);
  } catch (error) {
    once.settledOrdinal = sched.tick();
    sched.log(`${name} rejected ${describe(error)}`);
    checkTyped(world, name, error);
  }
}
