import type { StoredEvent, Subscription } from './lib.js';
import type { BusRecord, SubRecord, SubStart } from './model.js';
import type { Prng } from './prng.js';
import { makeEvent, publish } from './publishers.js';
import { deliver, end, newSub, skipEveryThird } from './sub-records.js';
import { checkTyped, code, describe, ledgerOf, PATTERNS, STREAMS, type World } from './world.js';

/**
 * Iterators (`subscribe`): from now, the start or a cursor; small buffers, `block` or the
 * default policy; readers that are fast, slow, pause or stop; ended by close, return or abort
 * at random moments, and re-subscribing from their last cursor.
 */
export async function iteratorSubscriber(
  world: World,
  record: BusRecord,
  name: string,
  rng: Prng,
  resumeAfter: string | undefined,
  generation: number,
): Promise<void> {
  const { sched, config } = world;
  const { log } = ledgerOf(world, record.index);
  let start: SubStart;
  if (record.store === 'none')
    start = 'now'; // no history to replay
  else if (resumeAfter !== undefined) start = { after: resumeAfter };
  else {
    const r = rng.float();
    if (config.actors.resumeFromCursor && log.length > 0 && r < 0.3)
      start = { after: rng.pick(log).cursor }; // trimmed ones included: truncation must be reported
    else if (r < 0.5) start = 'start';
    else start = 'now';
  }
  const pattern = rng.pick(PATTERNS);
  const stream = rng.chance(0.25) ? rng.pick(STREAMS) : undefined;
  const filter = rng.chance(0.2) ? skipEveryThird : undefined;
  const bufferSize = rng.int(1, 4);
  const onTruncated = rng.pick([undefined, 'throw', 'signal'] as const);
  // With a store `block` means catch-up too; without one every policy applies as written.
  const overflow =
    record.store === 'none'
      ? rng.pick([undefined, 'block', 'block', 'drop-newest', 'error'] as const)
      : rng.pick([undefined, undefined, 'block'] as const);
  const modes = ['fast', 'fast'];
  if (config.actors.slowReaders) modes.push('slow', 'slow');
  if (config.actors.stallingReaders) modes.push('pause', 'stop');
  const mode = rng.pick(modes);
  const controller = rng.chance(0.3) ? new AbortController() : undefined;
  const key = `${name}${generation ? `.re${generation}` : ''}(${mode})`;
  const sub = newSub(world, record, key, 'iterator', mode, pattern, stream, start);
  sub.overflow = overflow;
  sub.bufferSize = bufferSize;
  sub.onTruncated = onTruncated;
  sub.filter = filter;
  const from = start === 'now' ? 'now' : start === 'start' ? 'start' : { after: start.after };
  sched.log(
    `${key} subscribe('${pattern}', from ${JSON.stringify(from)}${stream ? `, stream ${stream}` : ''}${filter ? ', filter skipEveryThird' : ''}, bufferSize ${bufferSize}, overflow ${overflow}, onTruncated ${onTruncated})`,
  );
  let subscription: Subscription<unknown>;
  try {
    subscription = record.bus.subscribe(pattern, {
      from,
      stream,
      filter,
      bufferSize,
      overflow,
      onTruncated,
      signal: controller?.signal,
    }) as Subscription<unknown>;
  } catch (error) {
    world.model.violate('unexpected-throw', `${key} subscribe() threw ${describe(error)}`);
    end(world, sub, 'subscribe() threw');
    return;
  }
  sub.subscription = subscription;
  // The app goes on publishing on this bus in the same turn, each publish awaited before the
  // next: the replay's hand-over to live must not lose one (session 6: a subscription turned
  // live one turn late, and an event dispatched in that turn was held and never handed over).
  if (start !== 'now' && world.laterChoices.chance(config.actors.backToBack ? 0.3 : 0))
    void publishAlong(world, record, `${key}.pub`, rng.fork());

  // Ending it at a random moment, the ways a user would; then maybe re-subscribing from the last cursor.
  let endedByUser = false;
  if (config.actors.resubscribes && rng.chance(0.35)) {
    const how = rng.pick(controller ? ['close', 'return', 'abort'] : ['close', 'return']);
    sched.schedule(rng.int(50, 2000), `${key} ${how}`, () => {
      if (world.calm || record.closeCalled || sub.endedOrdinal !== undefined) return;
      endedByUser = true;
      end(world, sub, how);
      if (how === 'close') subscription.close();
      else if (how === 'return') void subscription.return?.();
      else controller!.abort();
    });
  }

  await readLoop(world, sub, subscription, mode, rng);
  if (!sub.healthy) return;
  const truncated = sub.truncations.length > 0;
  if (
    config.actors.resubscribes &&
    (endedByUser || truncated) &&
    generation < 2 &&
    !world.calm &&
    rng.chance(0.7)
  ) {
    await sched.sleep(rng.int(0, 200), `${key} re-subscribes soon`);
    if (world.calm || record.closeCalled) return;
    const last = sub.delivered.at(-1)?.cursor;
    // After a truncation the reader starts over from what the store has; else from its last cursor.
    const resumeFrom = truncated
      ? undefined
      : (last ?? (typeof start === 'object' ? start.after : undefined));
    await iteratorSubscriber(world, record, name, rng, resumeFrom, generation + 1);
  }
}

/** Reads like a user's `for await`, at the pace its mode says. */
async function readLoop(
  world: World,
  sub: SubRecord,
  subscription: Subscription<unknown>,
  mode: string,
  rng: Prng,
): Promise<void> {
  const { sched } = world;
  const stopAfter = rng.int(0, 5);
  const pauseAfter = rng.int(0, 4);
  const pauseMs = rng.int(200, 3000);
  let count = 0;
  sub.reading = true;
  for (;;) {
    if (mode === 'stop' && count >= stopAfter && !world.calm) {
      sched.log(`${sub.key} stops reading (stays subscribed)`);
      sub.healthy = false;
      sub.reading = false;
      return;
    }
    if (mode === 'pause' && count === pauseAfter) {
      count++;
      sched.log(`${sub.key} pauses ${pauseMs} ms`);
      await sched.sleep(pauseMs, `${sub.key} resumes reading`);
    }
    if (!(await readOne(world, sub, subscription))) break;
    count++;
    if (mode === 'slow') await sched.sleep(rng.int(1, 60), `${sub.key} reads on`);
  }
  sub.reading = false;
}

/** One `next()`: records what it gave; false when the iteration is over. */
export async function readOne(
  world: World,
  sub: SubRecord,
  subscription: Subscription<unknown>,
): Promise<boolean> {
  const { model } = world;
  let result: IteratorResult<unknown>;
  try {
    result = await model.track(`${sub.key}.next()`, subscription.next());
  } catch (error) {
    if (code(error) === 'HISTORY_TRUNCATED')
      sub.truncations.push({ ordinal: world.sched.tick(), how: 'error' });
    end(world, sub, `error ${describe(error)}`);
    checkTyped(world, `${sub.key}.next()`, error);
    return false;
  }
  if (result.done) {
    end(world, sub, 'done');
    return false;
  }
  const value = result.value as StoredEvent | { kind?: string };
  if ((value as { kind?: string }).kind === 'history_truncated') {
    sub.truncations.push({ ordinal: world.sched.tick(), how: 'value' });
    world.sched.log(`${sub.key} got HistoryTruncated inline`);
    if (sub.onTruncated !== 'signal')
      model.violate(
        'on-truncated-default-throw',
        `${sub.key} (onTruncated: ${sub.onTruncated}) yielded a HistoryTruncated value instead of ending with HISTORY_TRUNCATED`,
      );
    return true;
  }
  deliver(world, sub, value as StoredEvent);
  return true;
}

/** Publishes 3–12 events on `record`'s bus back to back, starting in the caller's turn. */
async function publishAlong(world: World, record: BusRecord, name: string, rng: Prng): Promise<void> {
  for (let k = rng.int(3, 12); k > 0 && !world.calm && !record.closeCalled; k--)
    await publish(world, record, name, [makeEvent(world, rng)], false, rng, 0);
}
