import type { BusRecord, PublishRecord } from './model.js';
import type { Prng } from './prng.js';
import { checkTyped, connected, describe, STREAMS, TYPES, type World } from './world.js';

/**
 * Publishers: single events and batches, overlapping (fire and forget), re-publishing earlier
 * ids (a client's retry or replay, from this bus or another at the same moment) and retrying
 * failed publishes with the same id.
 */

function makeEvent(
  world: World,
  rng: Prng,
): { id: string; type: string; stream: string; data: { n: number } } {
  const n = world.nextEventId++;
  return { id: `e${n}`, type: rng.pick(TYPES), stream: rng.pick(STREAMS), data: { n } };
}

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
    let events: { id: string; type: string; stream: string; data: { n: number } }[];
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
    if (config.actors.duplicateIds && rng.chance(0.05)) {
      // An impatient client: the same publish again on the same bus before the first settled.
      for (let k = rng.int(1, 2); k > 0; k--)
        void publish(world, record, `${name}(again)`, events, batch, rng, 0);
    }
    if (rng.chance(0.7)) await sending; // else fire and forget: publishes overlap
    await sched.sleep(rng.int(5, 250), `${name} next publish`);
  }
}

async function publish(
  world: World,
  record: BusRecord,
  name: string,
  events: { id: string; type: string; stream: string; data: { n: number } }[],
  batch: boolean,
  rng: Prng,
  attempt: number,
): Promise<void> {
  const { sched, model, config } = world;
  const entry: PublishRecord = {
    key: `${name}/${events.map((e) => e.id).join('+')}#${attempt}`,
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
  };
  model.publishes.push(entry);
  const what = events.map((e) => `${e.id}:${e.type}/${e.stream}`).join(' ');
  sched.log(`${name} ${batch ? 'publishBatch' : 'publish'} ${what}${attempt ? ` (retry ${attempt})` : ''}`);
  // Bounded by the contract's waits (positioning, the wait for the feed) plus the store's own delays.
  const boundMs = 2 * config.feedTimeoutMs + 4500;
  try {
    const results = batch
      ? await model.track(`${name} publishBatch ${entry.ids}`, record.bus.publishBatch(events), {
          boundMs,
          invariant: 'publish-bounded',
        })
      : [
          await model.track(`${name} publish ${entry.ids}`, record.bus.publish(events[0]!), {
            boundMs,
            invariant: 'publish-bounded',
          }),
        ];
    entry.settledOrdinal = sched.tick();
    entry.results = results.map((r) => ({ id: r.id, status: r.status, cursor: r.cursor }));
    sched.log(
      `${name} published: ${results.map((r) => `${r.id} ${r.status}${r.cursor ? `@${r.cursor}` : ''}`).join(', ')}`,
    );
  } catch (error) {
    entry.settledOrdinal = sched.tick();
    entry.error = error;
    sched.log(`${name} publish ${entry.ids} rejected ${describe(error)}`);
    checkTyped(world, `${name} publish`, error);
    // A failed publish is retried with the same id: it must go through (the id was not stored)
    // or come back as a duplicate of what the store did keep.
    if (attempt < 2 && !world.calm && !record.closeCalled && rng.chance(0.7)) {
      await sched.sleep(rng.int(20, 300), `${name} retry wait`);
      if (!record.closeCalled) await publish(world, record, name, events, batch, rng, attempt + 1);
    }
  }
}
