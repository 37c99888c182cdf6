import { describe, expect, it } from 'vitest';
import { EventBus, type StoredEvent } from '../../../src/index.js';
import { RedisGroupKeys } from '../../../src/redis/groups/redis-group-keys.js';
import { RedisEventStore } from '../../../src/redis/index.js';
import { packEntry } from '../../../src/redis/store/log-entry.js';
import { newEpoch } from '../../../src/redis/store/redis-cursor.js';
import { encodeStreamName, RedisKeys } from '../../../src/redis/store/redis-keys.js';
import { testEvent as event, type NodeRedisClient, redisPerTest, waitFor } from './redis-fixtures.js';

// Since the packed entry format (log-entry.ts), entries hold one field `p`. A store keeps its
// data across an upgrade: entries written by earlier versions (`i`, `s`, `t`, `e` in the log,
// `i` and `e` in a stream key) must still be read, tailed, consumed by groups, recognized as
// duplicates and trimmed, side by side with new ones.

const redis = redisPerTest('entry-format');

async function setup(options: { maxEvents?: number } = {}) {
  const { client, prefix } = await redis.connect();
  const store = new RedisEventStore({ client, prefix, groupPollMs: 50, ...options });
  redis.defer(() => store.close());
  return { client, store, keys: new RedisKeys(prefix) };
}

/** Writes events as the append script before the packed format did (without its bounds). */
async function writeOlderFormat(
  client: NodeRedisClient,
  keys: RedisKeys,
  events: ReturnType<typeof event>[],
): Promise<void> {
  await client.set(keys.epoch, newEpoch(), { NX: true });
  for (const e of events) {
    const token = encodeStreamName(e.stream);
    const json = JSON.stringify({ type: e.type, stream: e.stream, time: e.time, data: e.data });
    const rid = String(await client.xAdd(keys.log, '*', { i: e.id, s: token, t: e.type, e: json }));
    await client.xAdd(keys.stream(token), rid, { i: e.id, e: json });
    await client.hSet(keys.ids, e.id, rid);
    await client.rPush(keys.streamIds(token), rid);
    await client.zAdd(keys.streams, { score: Number(rid.split('-')[0]), value: token });
  }
}

/** Writes events packed as before their JSON left out `type` and `stream` (the JSON's win). */
async function writeOlderPacked(
  client: NodeRedisClient,
  keys: RedisKeys,
  events: ReturnType<typeof event>[],
) {
  await client.set(keys.epoch, newEpoch(), { NX: true });
  for (const e of events) {
    const token = encodeStreamName(e.stream);
    const json = JSON.stringify({ type: e.type, stream: e.stream, time: e.time, data: e.data });
    const packed = packEntry(e.id, token, e.type, json);
    const rid = String(await client.xAdd(keys.log, '*', { p: packed }));
    await client.xAdd(keys.stream(token), rid, { p: packed });
    await client.hSet(keys.ids, e.id, rid);
    await client.rPush(keys.streamIds(token), rid);
    await client.zAdd(keys.streams, { score: Number(rid.split('-')[0]), value: token });
  }
}

const ids = (events: readonly { id: string }[]) => events.map((e) => e.id);

describe('RedisEventStore reads entries of the older format beside packed ones', () => {
  it('reads, replays one stream, answers has() and finds duplicates across both formats', async () => {
    const { client, store, keys } = await setup();
    const old = [event({ stream: 'a' }), event({ stream: 'b' }), event({ stream: 'a' })];
    await writeOlderFormat(client, keys, old);
    const fresh = [event({ stream: 'a' }), event({ stream: 'b' })];
    await store.append(fresh);
    const entries = (await client.xRange(keys.log, '-', '+')) as { message: Record<string, string> }[];
    expect(entries.at(-1)?.message).toEqual({
      p: expect.stringMatching(/^[^\n]+\n[^\n]+\ntask\.created\n\{/),
    });

    const all = await store.read();
    expect(ids(all.events)).toEqual(ids([...old, ...fresh]));
    expect(all.events[0]).toMatchObject({ type: old[0]!.type, stream: 'a', data: old[0]!.data });
    expect(ids((await store.read({ stream: 'a' })).events)).toEqual([old[0]!.id, old[2]!.id, fresh[0]!.id]);
    expect(await store.has(old[1]!.id)).toBe(true);

    const again = await store.append([old[1]!, fresh[1]!, event({ stream: 'b' })]);
    expect(again.map((r) => r.duplicate)).toEqual([true, true, false]);
    expect(again[0]!.cursor).toBe(all.events[1]!.cursor);
  });

  it('tails all three formats, and a consumer group matches and decodes them', async () => {
    const { client, store, keys } = await setup();
    const old = [event({ type: 'job.run' }), event({ type: 'job.skip' })];
    await writeOlderFormat(client, keys, old);
    const packedOld = [event({ type: 'job.run', stream: 'p' }), event({ type: 'job.skip' })];
    await writeOlderPacked(client, keys, packedOld);
    const fresh = [event({ type: 'job.run', stream: 'f' }), event({ type: 'job.skip' })];
    await store.append(fresh);
    const all = [...old, ...packedOld, ...fresh];

    const tailed: StoredEvent[] = [];
    const stop = new AbortController();
    for await (const e of store.tail('start', stop.signal)) {
      tailed.push(e);
      if (tailed.length === all.length) break;
    }
    expect(ids(tailed)).toEqual(ids(all));
    expect(tailed.map((e) => [e.type, e.stream, e.time, e.data])).toEqual(
      all.map((e) => [e.type, e.stream, e.time, e.data]),
    );

    const bus = new EventBus({ store });
    const handled: StoredEvent[] = [];
    await bus.consume('job.run', (e) => void handled.push(e), { group: 'runs', from: 'start' });
    await waitFor(() => handled.length === 3, 5000);
    expect(ids(handled)).toEqual([old[0]!.id, packedOld[0]!.id, fresh[0]!.id]);
    expect(handled[1]).toMatchObject({ type: 'job.run', stream: 'p', data: packedOld[0]!.data });
    await bus.close();
  });

  it('redelivers a delayed retry and redrives a dead letter that an older version wrote', async () => {
    const { client, store, keys } = await setup();
    const [late, dead] = [event({ type: 'job.run' }), event({ type: 'job.run' })];
    await writeOlderFormat(client, keys, [late!, dead!]);
    const bus = new EventBus({ store });
    const handled: StoredEvent[] = [];
    // The group reads from 'now': these two reach it only through its own keys.
    await bus.consume('job.run', (e) => void handled.push(e), { group: 'old', from: 'now' });
    const g = new RedisGroupKeys(keys, 'old');
    const entries = (await client.xRange(keys.log, '-', '+')) as { id: string }[];
    const [lateRid, deadRid] = entries.map((entry) => entry.id);
    const older = (e: ReturnType<typeof event>) => ({
      i: e.id,
      s: encodeStreamName(e.stream),
      e: JSON.stringify({ type: e.type, stream: e.stream, time: e.time, data: e.data }),
    });
    await client.zAdd(g.delayed, {
      score: 0,
      value: JSON.stringify({ ...older(late!), c: lateRid, n: '1' }),
    });
    await client.xAdd(g.dead, '*', { ...older(dead!), c: deadRid!, n: '5', en: 'Error', em: 'boom', t: '1' });

    const letters = await bus.deadLetters('old').list();
    expect(letters.map((l) => [l.event.id, l.event.type, l.deliveries, l.lastError.message])).toEqual([
      [dead!.id, 'job.run', 5, 'boom'],
    ]);
    expect(await bus.deadLetters('old').redrive([dead!.id])).toBe(1);
    await waitFor(() => handled.length === 2, 5000);
    expect(ids(handled).sort()).toEqual([late!.id, dead!.id].sort());
    expect(handled.map((e) => e.data)).toEqual(
      handled.map((e) => (e.id === late!.id ? late!.data : dead!.data)),
    );
    await bus.close();
  });

  it('trims entries of the older format: the log, their stream keys and the id index', async () => {
    const { client, store, keys } = await setup({ maxEvents: 4 });
    const old = [event({ stream: 'a' }), event({ stream: 'b' }), event({ stream: 'a' })];
    await writeOlderFormat(client, keys, old);
    const fresh = [event({ stream: 'a' }), event({ stream: 'a' }), event({ stream: 'b' })];
    await store.append(fresh);
    expect(await client.xLen(keys.log)).toBe(4);
    expect(await store.has(old[0]!.id)).toBe(false);
    expect(await store.has(old[1]!.id)).toBe(false);
    expect(await store.has(old[2]!.id)).toBe(true);
    expect(ids((await store.read({ stream: 'a' })).events)).toEqual([old[2]!.id, fresh[0]!.id, fresh[1]!.id]);
    expect(ids((await store.read({ stream: 'b' })).events)).toEqual([fresh[2]!.id]);
    expect(await client.lLen(keys.streamIds(encodeStreamName('a')))).toBe(3);
  });
});
