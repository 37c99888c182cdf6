import { setMaxListeners } from 'node:events';
import { publishBoundMs } from './bus-plans.js';
import type { BusRecord, PublishRecord } from './model.js';
import type { Prng } from './prng.js';
import { checkTyped, connected, describe, STREAMS, TYPES, type World } from './world.js';

/**
 * Publishers: single events and batches, overlapping (fire and forget), re-publishing earlier
 * ids (a client's retry or replay, from this bus or another at the same moment) and retrying
 * failed publishes with the same id.
 */

export interface SimEvent {
  id: string;
  type: string;
  stream: string;
  data: { n: number };
}

export function makeEvent(world: World, rng: Prng, type?: string, stream?: string): SimEvent {
  const n = world.nextEventId++;
  return { id: `e${n}`, type: type ?? rng.pick(TYPES), stream: stream ?? rng.pick(STREAMS), data: { n } };
}

/** Ids for labels: a flood's thousand ids as a range. */
export function idsLabel(ids: readonly string[]): string {
  return ids.length <= 4 ? ids.join('+') : `${ids[0]}…${ids.at(-1)}(${ids.length})`;
}

/** Why a publisher's own signal aborted: its rejection is the publisher's doing, not the bus's. */
const GAVE_UP = new Error('simulated: the publisher stopped waiting');

export async function publisher(world: World, record: BusRecord, p: number, rng: Prng): Promise<void> {
  const { sched, config, model } = world;
  const name = `bus${record.index}.pub${p}`;
  const count = rng.int(...config.eventsPerPublisher);
  await sched.sleep(rng.int(0, 400), `${name} wakes`);
  // Most publishers wait to be connected; the others publish at once (their own subscribers
  // must get those events anyway).
  if (rng.chance(0.7)) await connected(world, record);
  let published = 0;
  while (published < count && !world.calm) {
    let events: SimEvent[];
    const previous = model.publishes.filter((x) => x.results !== undefined || x.error !== undefined);
    if (config.actors.duplicateIds && previous.length > 0 && rng.chance(0.12)) {
      // Re-publish an earlier event as it was (same id, same content): a client's retry or replay.
      const old = rng.pick(previous);
      const i = rng.int(0, old.ids.length - 1);
      const id = old.ids[i]!;
      events = [{ id, type: old.types[i]!, stream: old.streams[i]!, data: { n: Number(id.slice(1)) } }];
    } else if (config.actors.batches && rng.chance(0.2)) {
      events = Array.from({ length: rng.int(2, 3) }, () => makeEvent(world, rng));
    } else events = [makeEvent(world, rng)];
    published += events.length;
    const batch = events.length > 1 || rng.chance(0.1);
    const sending = publish(world, record, name, events, batch, rng, 0);
    if (config.actors.duplicateIds && rng.chance(0.05)) {
      // The same id from another bus at the same moment: the store must keep one.
      const other = world.model.buses.filter((b) => b && b !== record && !b.closeCalled);
      if (other.length > 0) void publish(world, rng.pick(other), `${name}(twin)`, events, batch, rng, 0);
    }
    // Under a `delay` limiter publishes wait, so a client's impatient repeat meets the first one waiting.
    const impatience = record.limiter?.onLimit === 'delay' ? 0.25 : 0.05;
    if (config.actors.duplicateIds && rng.chance(impatience)) {
      // An impatient client: the same publish again on the same bus before the first settled.
      for (let k = rng.int(1, 2); k > 0; k--)
        void publish(world, record, `${name}(again)`, events, batch, rng, 0);
    }
    if (rng.chance(0.7)) {
      await sending;
      // In the same turn as the settlement: a loop of awaited publishes.
      if (config.actors.backToBack && rng.chance(0.3)) continue;
    } // else fire and forget: publishes overlap
    await sched.sleep(rng.int(5, 250), `${name} next publish`);
  }
}

export async function publish(
  world: World,
  record: BusRecord,
  name: string,
  events: SimEvent[],
  batch: boolean,
  rng: Prng,
  attempt: number,
): Promise<void> {
  const { sched, model, config } = world;
  // Same content, fresh `data` objects: the store names the attempt whose append it applied by them.
  const sent = events.map((e) => ({ ...e, data: { ...e.data } }));
  // Without a store a full `block` queue holds a publish: most publishers give up after a while.
  const patience = record.store === 'none' && rng.chance(0.7) ? rng.int(100, 1500) : undefined;
  const controller = patience === undefined ? undefined : new AbortController();
  // A batch's events each wait on it (a limiter's delay): more listeners than Node's warning expects.
  if (controller) setMaxListeners(0, controller.signal);
  const entry: PublishRecord = {
    key: `${name}/${idsLabel(events.map((e) => e.id))}#${attempt}`,
    bus: record.index,
    ids: events.map((e) => e.id),
    types: events.map((e) => e.type),
    streams: events.map((e) => e.stream),
    batch,
    calledOrdinal: sched.tick(),
    calledAt: sched.now,
    settledOrdinal: undefined,
    results: undefined,
    error: undefined,
    data: sent.map((e) => e.data),
  };
  model.publishes.push(entry);
  const giveUp =
    controller && sched.schedule(patience!, `${name} stops waiting`, () => controller.abort(GAVE_UP));
  const what =
    events.length > 4
      ? `${idsLabel(entry.ids)} ${events[0]!.type}/${events[0]!.stream}…`
      : events.map((e) => `${e.id}:${e.type}/${e.stream}`).join(' ');
  sched.log(`${name} ${batch ? 'publishBatch' : 'publish'} ${what}${attempt ? ` (retry ${attempt})` : ''}`);
  const options = controller && { signal: controller.signal };
  const tracking = {
    boundMs: patience === undefined ? publishBoundMs(config, record, events.length) : patience + 50,
    invariant: patience === undefined ? 'publish-bounded' : 'publish-cancellable',
    // Without a store and without a signal, only close() can let a publish held by a stuck queue go.
    hangInvariant:
      record.store === 'none' && !controller ? 'close-lets-blocked-publishes-go' : 'waits-settle',
  } as const;
  try {
    const results = batch
      ? await model.track(
          `${name} publishBatch ${idsLabel(entry.ids)}`,
          record.bus.publishBatch(sent, options),
          tracking,
        )
      : [
          await model.track(
            `${name} publish ${idsLabel(entry.ids)}`,
            record.bus.publish(sent[0]!, options),
            tracking,
          ),
        ];
    sched.cancel(giveUp);
    entry.settledOrdinal = sched.tick();
    entry.results = results.map((r) => ({
      id: r.id,
      status: r.status,
      cursor: r.cursor,
      deliveredTo: r.deliveredTo,
    }));
    sched.log(
      `${name} published: ${results
        .slice(0, 4)
        .map((r) => `${r.id} ${r.status}${r.cursor ? `@${r.cursor}` : ''}`)
        .join(', ')}${results.length > 4 ? ', …' : ''}`,
    );
  } catch (error) {
    sched.cancel(giveUp);
    entry.settledOrdinal = sched.tick();
    entry.error = error;
    sched.log(`${name} publish ${idsLabel(entry.ids)} rejected ${describe(error)}`);
    if (error !== GAVE_UP) checkTyped(world, `${name} publish`, error);
    // A failed publish is retried with the same id: it must go through (the id was not stored)
    // or come back as a duplicate of what the store did keep.
    if (attempt < 2 && !world.calm && !record.closeCalled && rng.chance(0.7)) {
      await sched.sleep(rng.int(20, 300), `${name} retry wait`);
      if (!record.closeCalled) await publish(world, record, name, events, batch, rng, attempt + 1);
    }
  }
}
