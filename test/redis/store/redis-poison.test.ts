import { afterEach, describe, expect, it, vi } from 'vitest';
import { EventBus } from '../../../src/index.js';
import { RedisGroupKeys } from '../../../src/redis/groups/redis-group-keys.js';
import { type InvalidEntry, RedisEventStore } from '../../../src/redis/index.js';
import { encodeStreamName, RedisKeys } from '../../../src/redis/store/redis-keys.js';
import { testEvent as event, redisPerTest, waitFor } from './redis-fixtures.js';

/**
 * Security review, finding 14 (proof script redis-poison-entry.mjs): one entry under the prefix
 * that is not a busline event stopped the live feed of every bus for good (the tail threw on it,
 * was restarted on it, threw again). Such an entry is now reported once, through the store's
 * `onInvalidEntry`, and skipped by the live feed, by reads and by consumer groups.
 */
const redis = redisPerTest('poison');
afterEach(() => {
  vi.restoreAllMocks();
});

async function setup(options: { reportTo?: InvalidEntry[] | 'default' } = {}) {
  const { client, prefix } = await redis.connect();
  const invalid: InvalidEntry[] = [];
  const store = new RedisEventStore({
    client,
    prefix,
    groupPollMs: 50,
    ...(options.reportTo === 'default' ? {} : { onInvalidEntry: (entry) => invalid.push(entry) }),
  });
  redis.defer(() => store.close());
  const keys = new RedisKeys(prefix);
  /** Writes an entry straight into a key, as another program with access to the prefix could. */
  const xadd = async (key: string, fields: Record<string, string>) =>
    String(await client.xAdd(key, '*', fields));
  return { client, prefix, store, keys, invalid, xadd };
}

/** Entries that are not events: each is skipped, and reported once. */
const POISON: Record<string, string>[] = [
  { i: 'x', s: 'eA', e: '{not json' }, // the proof script's entry
  { i: 'x', s: 'eA' }, // no JSON
  { s: 'eA', e: '{"type":"a.b","stream":"default","time":1,"data":null}' }, // no id
  { i: 'x', s: 'eA', e: '[1,2]' },
  { i: 'x', s: 'eA', e: 'null' },
  { i: 'x', s: 'eA', e: '"text"' },
  { i: 'x', s: 'eA', e: '{"type":5,"stream":"default","time":1}' },
  { i: 'x', s: 'eA', e: '{"type":"a.b","stream":"default","time":"soon"}' },
  { i: 'x', s: 'eA', e: '{"type":"a.b","stream":"default","time":1,"meta":7}' },
  // The packed field (log-entry.ts) with too few parts, no id, or a body that is not an event.
  { p: 'no separators at all' },
  { p: 'x\neA\na.b' },
  { p: '\neA\na.b\n{"type":"a.b","stream":"default","time":1,"data":null}' },
  { p: 'x\neA\na.b\n{not json' },
  { p: 'x\neA\na.b\n{"type":"a.b","stream":"default","time":"soon"}' },
];

describe('an entry that is not an event', () => {
  it('does not stop the live feed: both good events are delivered, the entry is reported once (the proof script)', async () => {
    const { store, keys, invalid, xadd } = await setup();
    const errors: unknown[] = [];
    const bus = new EventBus({ store, onError: (error) => errors.push(error) });
    redis.defer(() => bus.close());
    const got: unknown[] = [];
    bus.on('**', (e) => void got.push(e.data));
    await bus.ready();
    await bus.publish({ type: 'ok.one', data: 1 });
    const ids: string[] = [];
    for (const fields of POISON) ids.push(await xadd(keys.log, fields));
    const second = await bus.publish({ type: 'ok.two', data: 2 });
    expect(second.deliveredTo).toBe(1); // through the feed, which went on past the entries
    expect(got).toEqual([1, 2]);
    expect(errors).toEqual([]);
    expect(invalid.map((entry) => entry.id)).toEqual(ids);
    for (const entry of invalid) {
      expect(entry.key).toBe(keys.log);
      expect(entry.error).toMatchObject({ code: 'INVALID_EVENT', name: 'InvalidEventError' });
      expect(entry.error.message).toContain(`Skipped entry ${entry.id} of ${keys.log}`);
    }
    expect(invalid[0]!.error.cause).toBeInstanceOf(SyntaxError);
  });

  it('is not even decoded by a bus with no subscriber for its type (the feed skips it by its t field)', async () => {
    // #18 item 3: a bus does not decode events it has no use for. An undecodable entry of a type
    // nobody here wants shows it: it is never reported, while one of a wanted type is.
    const { store, keys, invalid, xadd } = await setup();
    const bus = new EventBus({ store, onError: () => {} });
    redis.defer(() => bus.close());
    const got: unknown[] = [];
    bus.on('ok.*', (e) => void got.push(e.data));
    await bus.ready();
    await xadd(keys.log, { i: 'x', s: 'eA', t: 'other.thing', e: '{not json' });
    const wanted = await xadd(keys.log, { i: 'y', s: 'eA', t: 'ok.bad', e: '{not json' });
    const own = await bus.publish({ type: 'elsewhere.own', data: 0 }); // no subscriber, but awaited
    expect(own).toMatchObject({ status: 'delivered', deliveredTo: 0 });
    expect((await bus.publish({ type: 'ok.good', data: 1 })).deliveredTo).toBe(1);
    expect(got).toEqual([1]);
    expect(invalid.map((entry) => entry.id)).toEqual([wanted]);
  });

  it('is skipped by reads of the log, of a type and of a stream, and reported once however often it is read', async () => {
    const { client, store, keys, invalid, xadd } = await setup();
    const [a] = await store.append([event({ stream: 'a', type: 'a.one' })]);
    const inLog = await xadd(keys.log, { i: 'x', s: encodeStreamName('a'), t: 'a.bad', e: '{oops' });
    // Right after event a in its stream key (an id the next append, later, stays above).
    const [ms, seq] = a!.cursor.split('-').slice(1).map(Number);
    const inStream = String(
      await client.xAdd(keys.stream(encodeStreamName('a')), `${ms}-${seq! + 1}`, { i: 'y', e: '{"nope":1}' }),
    );
    const [b] = await store.append([event({ stream: 'a', type: 'a.two' })]);
    for (let round = 0; round < 2; round++) {
      expect((await store.read({})).events.map((e) => e.cursor)).toEqual([a!.cursor, b!.cursor]);
      expect((await store.read({ types: ['a.*'] })).events.map((e) => e.cursor)).toEqual([
        a!.cursor,
        b!.cursor,
      ]);
      expect((await store.read({ stream: 'a' })).events.map((e) => e.cursor)).toEqual([a!.cursor, b!.cursor]);
      expect((await store.read({ direction: 'backward', limit: 1 })).events[0]!.cursor).toBe(b!.cursor);
    }
    expect(invalid.map((entry) => [entry.key, entry.id])).toEqual([
      [keys.log, inLog],
      [keys.stream(encodeStreamName('a')), inStream],
    ]);
  });

  it('is skipped by a store tail, which goes on after it', async () => {
    const { store, keys, invalid, xadd } = await setup();
    const abort = new AbortController();
    const seen: unknown[] = [];
    const tailing = (async () => {
      for await (const e of store.tail('now', abort.signal)) {
        seen.push(e.data);
        if (seen.length === 2) abort.abort();
      }
    })();
    await waitFor(async () => (await store.stats()).tails === 1);
    await store.append([event({ data: 'before' })]);
    const id = await xadd(keys.log, { i: 'x', s: 'eA', e: '{not json' });
    await store.append([event({ data: 'after' })]);
    await tailing;
    expect(seen).toEqual(['before', 'after']);
    expect(invalid.map((entry) => entry.id)).toEqual([id]);
  });

  it('is acknowledged and skipped by a consumer group, which goes on with the events after it', async () => {
    const { client, store, keys, invalid, xadd } = await setup();
    const errors: unknown[] = [];
    const bus = new EventBus({ store, onError: (error) => errors.push(error) });
    redis.defer(() => bus.close());
    const handled: unknown[] = [];
    const consumer = await bus.consume('job.*', (e) => void handled.push(e.data), { group: 'workers' });
    // A `t` field of the group's types makes the claim script hand the entries out: the member
    // finds they are not events, reports and acknowledges them.
    const token = encodeStreamName('default');
    const handedOut = [
      await xadd(keys.log, { i: 'p1', s: token, t: 'job.run', e: '{not json' }),
      await xadd(keys.log, { i: 'p2', s: token, t: 'job.run' }),
    ];
    // Without a type the script cannot match it: acknowledged there, never handed out.
    await xadd(keys.log, { i: 'p3', s: token, e: '{not json' });
    await bus.publish({ type: 'job.run', data: 'good' });
    await waitFor(() => handled.length === 1);
    expect(handled).toEqual(['good']);
    await waitFor(() => consumer.stats().acked === 1);
    // Nothing stays pending in the group: the bad entries were acknowledged.
    await waitFor(
      async () =>
        Number(((await client.sendCommand(['XPENDING', keys.log, 'workers'])) as unknown[])[0]) === 0,
    );
    for (const id of handedOut) expect(invalid.map((entry) => entry.id)).toContain(id);
    expect(errors).toEqual([]);
  });

  it('is acknowledged and skipped in a group redelivery stream (`again`), and left out of the dead letters', async () => {
    const { client, store, keys, invalid, xadd } = await setup();
    const errors: unknown[] = [];
    const bus = new EventBus({ store, onError: (error) => errors.push(error) });
    redis.defer(() => bus.close());
    const handled: unknown[] = [];
    await bus.consume('job.*', (e) => void handled.push(e.data), { group: 'g' });
    const group = new RedisGroupKeys(keys, 'g');
    const badAgain = await xadd(group.again, { i: 'q', s: 'eA', e: '{nope', c: '1-1', n: '1' });
    const badDead = await xadd(group.dead, {
      i: 'r',
      s: 'eA',
      e: '{nope',
      c: '1-1',
      n: '5',
      en: 'Error',
      em: 'x',
      t: '1',
    });
    await bus.publish({ type: 'job.run', data: 'good' });
    await waitFor(() => handled.length === 1);
    await waitFor(
      async () => Number(((await client.sendCommand(['XPENDING', group.again, 'g'])) as unknown[])[0]) === 0,
    );
    expect(await bus.deadLetters('g').list()).toEqual([]);
    expect(invalid.map((entry) => [entry.key, entry.id])).toEqual(
      expect.arrayContaining([
        [group.again, badAgain],
        [group.dead, badDead],
      ]),
    );
    expect(errors).toEqual([]);
  });

  it('by default is reported with console.warn, once per entry', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const { store, keys, xadd } = await setup({ reportTo: 'default' });
    await store.append([event()]);
    const id = await xadd(keys.log, { i: 'x', s: 'eA', e: '{not json' });
    await store.read({});
    await store.read({});
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]![0])).toContain(`busline/redis: Skipped entry ${id} of ${keys.log}`);
  });

  it('survives an onInvalidEntry that throws', async () => {
    const { client, prefix } = await redis.connect();
    const store = new RedisEventStore({
      client,
      prefix,
      onInvalidEntry: () => {
        throw new Error('handler bug');
      },
    });
    redis.defer(() => store.close());
    const [good] = await store.append([event()]);
    await client.xAdd(new RedisKeys(prefix).log, '*', { i: 'x', e: '{' });
    expect((await store.read({})).events.map((e) => e.cursor)).toEqual([good!.cursor]);
  });

  it('rejects an onInvalidEntry that is not a function', async () => {
    const { client } = await redis.connect();
    expect(() => new RedisEventStore({ client, onInvalidEntry: 'log' as never })).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTION' }),
    );
  });
});
