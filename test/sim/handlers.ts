import type { EventBus, StoredEvent } from './lib.js';
import type { BusRecord } from './model.js';
import type { Prng } from './prng.js';
import { end, newSub, skipEveryThird, startCall } from './sub-records.js';
import { describe, PATTERNS, STREAMS, type World } from './world.js';

/**
 * `on()` handlers: sync, fast (async, done within 3 ms), slow, failing, never settling; some
 * removed later by `off()` or an abort.
 */
export function handlerSubscriber(world: World, record: BusRecord, name: string, rng: Prng): void {
  const { sched, config } = world;
  // 'fast': async, done within 3 ms — whatever the others do, its calls must start promptly.
  const behaviors = ['sync', 'sync', 'fast', 'fast'];
  if (config.actors.slowHandlers) behaviors.push('slow', 'slow');
  if (config.actors.failingHandlers) behaviors.push('failing');
  if (config.actors.neverResolvingHandlers) behaviors.push('never');
  const behavior = rng.pick(behaviors);
  const pattern = rng.pick(PATTERNS);
  const stream = rng.chance(0.25) ? rng.pick(STREAMS) : undefined;
  const filter = rng.chance(0.2) ? skipEveryThird : undefined;
  const controller = rng.chance(0.3) ? new AbortController() : undefined;
  const sub = newSub(world, record, `${name}(${behavior})`, 'handler', behavior, pattern, stream, 'now');
  sub.maxPending = rng.int(1, 4);
  sub.filter = filter;
  record.handlerSubs.push(sub);
  const handler = (event: StoredEvent): unknown => {
    const call = startCall(world, sub, event);
    const ended = () => {
      call.endAt = sched.now;
    };
    switch (behavior) {
      case 'fast':
        return sched.sleep(rng.int(0, 3), `${sub.key} handler finishes`).then(ended);
      case 'slow':
        return sched.sleep(rng.int(1, 80), `${sub.key} handler finishes`).then(ended);
      case 'failing':
        if (rng.chance(0.5)) throw new Error('simulated handler failure');
        return rng.chance(0.5)
          ? sched.sleep(rng.int(1, 30)).then(() => {
              throw new Error('simulated async handler failure');
            })
          : undefined;
      case 'never':
        sub.healthy = false; // the user's handler hangs: nothing more can be asked of this subscription
        return new Promise(() => {});
      default:
        ended();
        return undefined;
    }
  };
  sched.log(
    `${sub.key} on('${pattern}'${stream ? `, stream ${stream}` : ''}${filter ? ', filter skipEveryThird' : ''}, maxPending ${sub.maxPending})`,
  );
  let off: () => void;
  try {
    off = record.bus.on(pattern, handler, {
      stream,
      filter,
      signal: controller?.signal,
      concurrency: sub.concurrency,
      maxPending: sub.maxPending,
    } as Parameters<EventBus['on']>[2]);
  } catch (error) {
    world.model.violate('unexpected-throw', `${sub.key} on() threw ${describe(error)}`);
    end(world, sub, 'on() threw');
    return;
  }
  if (config.actors.resubscribes && rng.chance(0.3)) {
    sched.schedule(rng.int(100, 2000), `${sub.key} unsubscribes`, () => {
      if (world.calm || record.closeCalled) return;
      if (controller) controller.abort();
      else off();
      end(world, sub, controller ? 'aborted' : 'unsubscribed');
    });
  }
}
