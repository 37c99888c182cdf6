import type { ConsumerContext, StoredEvent } from './lib.js';
import type { BusRecord, ConsumerRecord, GroupCall } from './model.js';
import type { Prng } from './prng.js';
import { checkTyped, connected, describe, PATTERNS, type World } from './world.js';

/**
 * Consumer groups (`bus.consume`) on buses with a store: one group per bus, one or two
 * consumers sharing it (the in-process backend: a group lives in its bus). Handlers succeed,
 * fail now and then, always fail (to the dead letters), or hang past ackTimeoutMs (redelivered).
 * Short retry delays, so every retry and dead letter happens well within the settling time.
 */
export function consumers(world: World, record: BusRecord, rng: Prng): void {
  // Groups are checked against the shared log (check-groups.ts): not on a private store.
  if (
    !world.config.actors.consumerGroups ||
    record.store === 'none' ||
    record.store === 'private' ||
    !rng.chance(0.35)
  )
    return;
  // A group's patterns are fixed when it is created: its consumers share them.
  const shared = {
    group: `g${record.index}`,
    pattern: rng.pick(PATTERNS),
    maxDeliveries: rng.int(1, 4),
    ackTimeoutMs: rng.int(100, 400),
    retryDelayMs: rng.int(0, 100),
  };
  for (let c = rng.int(1, 2); c > 0; c--) void consumer(world, record, shared, c, rng.fork());
}

type Shared = {
  group: string;
  pattern: string;
  maxDeliveries: number;
  ackTimeoutMs: number;
  retryDelayMs: number;
};

async function consumer(
  world: World,
  record: BusRecord,
  shared: Shared,
  c: number,
  rng: Prng,
): Promise<void> {
  const { sched, model } = world;
  await sched.sleep(rng.int(0, 1500), `bus${record.index}.consumer${c} wakes`);
  if (rng.chance(0.8)) await connected(world, record);
  if (world.calm || record.closeCalled) return;
  const behavior = rng.pick(['ok', 'ok', 'flaky', 'failing', 'hangs']);
  const concurrency = rng.int(1, 2);
  const rec: ConsumerRecord = {
    key: `bus${record.index}.consumer${c}(${behavior})`,
    bus: record.index,
    group: shared.group,
    pattern: shared.pattern,
    behavior,
    maxDeliveries: shared.maxDeliveries,
    ackTimeoutMs: shared.ackTimeoutMs,
    concurrency,
    consumer: undefined,
    resolvedOrdinal: undefined,
    calls: [],
  };
  record.consumers.push(rec);
  const handler = (event: StoredEvent, context: ConsumerContext): unknown => {
    const call: GroupCall = {
      id: event.id,
      cursor: event.cursor,
      deliveries: context.deliveries,
      startAt: sched.now,
      outcome: 'hung',
    };
    rec.calls.push(call);
    const fate = fateOf(behavior, rng);
    sched.log(`${rec.key} handles ${event.id} (delivery ${context.deliveries}): ${fate}`);
    if (fate === 'hang') return new Promise(() => {});
    if (fate === 'fail') {
      call.outcome = 'failed';
      if (rng.chance(0.5)) throw new Error('simulated consumer failure');
      return sched.sleep(rng.int(0, 20)).then(() => {
        throw new Error('simulated async consumer failure');
      });
    }
    // Well within ackTimeoutMs (≥ 100 ms): resolving acknowledges.
    return sched.sleep(rng.int(0, 20), `${rec.key} finishes ${event.id}`).then(() => {
      call.outcome = 'ok';
    });
  };
  const options = {
    group: shared.group,
    maxDeliveries: shared.maxDeliveries,
    ackTimeoutMs: shared.ackTimeoutMs,
    retryDelayMs: shared.retryDelayMs,
    concurrency,
  };
  while (!world.calm && !record.closeCalled) {
    sched.log(`${rec.key} consume('${shared.pattern}', ${JSON.stringify(options)})`);
    try {
      rec.consumer = await model.track(
        `${rec.key} consume()`,
        record.bus.consume(shared.pattern, handler, options),
      );
      rec.resolvedOrdinal = sched.tick();
      sched.log(`${rec.key} joined its group`);
      return;
    } catch (error) {
      sched.log(`${rec.key} consume() rejected ${describe(error)}`);
      checkTyped(world, `${rec.key} consume()`, error);
      await sched.sleep(100, `${rec.key} tries consume() again`);
    }
  }
}

function fateOf(behavior: string, rng: Prng): 'ok' | 'fail' | 'hang' {
  switch (behavior) {
    case 'failing':
      return 'fail';
    case 'hangs':
      return rng.chance(0.5) ? 'hang' : 'ok';
    case 'flaky':
      return rng.pick(['ok', 'ok', 'fail', 'hang'] as const);
    default:
      return 'ok';
  }
}
