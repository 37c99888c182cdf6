import { type BusEvent, EventBus, HistoryTruncated, type StoredEvent } from 'busline';
import { describeEventStore, type StoreFactoryOptions } from 'busline/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresEventStore } from './postgres-event-store.js';

const connectionString = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const pool = new pg.Pool({ connectionString, connectionTimeoutMillis: 5000 });

// Every store gets a table of its own, dropped at the end (names are unique per run).
const run = `${process.pid}_${Date.now().toString(36)}`;
const tables: string[] = [];
async function freshStore(hints: StoreFactoryOptions = {}): Promise<PostgresEventStore> {
  const table = `busline_test_${run}_${tables.length}`;
  tables.push(table);
  return PostgresEventStore.create({ pool, table, ...hints });
}

beforeAll(async () => {
  try {
    await pool.query('SELECT 1');
  } catch (error) {
    throw new Error(
      `PostgreSQL is not reachable at ${connectionString}: start it, or point DATABASE_URL at a server`,
      { cause: error },
    );
  }
});

afterAll(async () => {
  const names = tables.flatMap((table) => [`"${table}"`, `"${table}_evicted"`]);
  if (names.length > 0) await pool.query(`DROP TABLE IF EXISTS ${names.join(', ')}`);
  await pool.end();
});

describeEventStore('PostgresEventStore', freshStore, { retention: true });

const TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

let nextId = 0;
const event = (overrides: Partial<BusEvent> = {}): BusEvent => ({
  id: `pg-${run}-${++nextId}`,
  type: 'job.done',
  stream: 'default',
  time: 1_700_000_000_000 + nextId,
  data: { n: nextId },
  ...overrides,
});

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; !(await condition()); ) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('PostgresEventStore, beyond the conformance suite', () => {
  it('backs an EventBus: publish, replay from the start then live, and a second bus on the same table', async () => {
    const store = await freshStore();
    const bus = new EventBus({ store });
    await bus.publishBatch([1, 2, 3].map((n) => ({ type: 'job.done', data: n })));
    await bus.publish({ type: 'other', data: 'x' });
    const sub = bus.subscribe('job.*', { from: 'start' });
    await bus.publish({ type: 'job.done', data: 4 });
    const seen: unknown[] = [];
    for (let i = 0; i < 4; i++) seen.push(((await sub.next()).value as StoredEvent).data);
    expect(seen).toEqual([1, 2, 3, 4]);
    await bus.close(); // leaves the store it was given open…
    await store.close(); // …which leaves the caller's pool open
    await expect(pool.query('SELECT 1')).resolves.toBeDefined();

    // Another process would do the same: a new store on the same table sees the history.
    const again = await PostgresEventStore.create({ pool, table: tables.at(-1)! });
    const later = new EventBus({ store: again });
    const replay = later.subscribe('**', { from: 'start' });
    const types: string[] = [];
    for (let i = 0; i < 5; i++) types.push(((await replay.next()).value as StoredEvent).type);
    expect(types).toEqual(['job.done', 'job.done', 'job.done', 'other', 'job.done']);
    await later.close();
  });

  it('keeps the trace context busline/otel puts in meta: a replay from another bus carries it', async () => {
    const store = await freshStore();
    const traced = new EventBus({
      store,
      // The trace context any telemetry adds: stored and replayed as part of meta.
      telemetry: { publish: () => ({ inject: () => ({ traceparent: TRACEPARENT }), end: () => {} }) },
    });
    await traced.publish({ type: 'job.done', data: 1, meta: { role: 'admin' } });
    await traced.close();
    const later = new EventBus({ store: await PostgresEventStore.create({ pool, table: tables.at(-1)! }) });
    const replayed = (await later.subscribe('job.*', { from: 'start' }).next()).value as StoredEvent;
    expect(replayed.meta).toEqual({ role: 'admin', traceparent: TRACEPARENT });
    await later.close();
  });

  it('makes appends visible in cursor order: a later append waits until an earlier one commits', async () => {
    const store = await freshStore();
    // A second "process" whose COMMIT is held back: an appender paused between INSERT and COMMIT.
    const slowPool = new pg.Pool({ connectionString, max: 1 });
    let reachedCommit!: () => void;
    const atCommit = new Promise<void>((resolve) => (reachedCommit = resolve));
    let releaseCommit!: () => void;
    const gate = new Promise<void>((resolve) => (releaseCommit = resolve));
    slowPool.on('connect', (client) => {
      const query = client.query.bind(client) as (...args: unknown[]) => Promise<unknown>;
      client.query = ((...args: unknown[]) => {
        if (args[0] !== 'COMMIT') return query(...args);
        reachedCommit();
        return gate.then(() => query(...args));
      }) as typeof client.query;
    });
    try {
      const slow = new PostgresEventStore({ pool: slowPool, table: tables.at(-1)! });
      const first = slow.append([event(), event()]);
      await atCommit; // its rows are inserted, not committed, and it holds the append lock
      let secondDone = false;
      const second = store.append([event()]).finally(() => (secondDone = true));
      const waiters = async () => {
        const { rows } = await pool.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted",
        );
        return rows[0]!.n > 0;
      };
      await waitFor(async () => secondDone || (await waiters()));
      // Without the lock the second append would have committed a higher cursor by now,
      // visible while the lower ones of the first were not: a reader would skip them for good.
      expect(secondDone).toBe(false);
      expect((await store.read({})).events).toEqual([]);
      releaseCommit();
      const cursors = [...(await first), ...(await second)].map((r) => r.cursor);
      expect([...cursors].sort()).toEqual(cursors);
      expect((await store.read({})).events.map((e) => e.cursor)).toEqual(cursors);
    } finally {
      releaseCommit();
      await slowPool.end();
    }
  });

  it('pages a wildcard filter through many non-matching rows', async () => {
    const store = await freshStore();
    const noise = (n: number) => Array.from({ length: n }, () => event({ type: 'noise.tick' }));
    const wanted = [event({ type: 'job.a' }), event({ type: 'job.b' }), event({ type: 'job.c' })];
    await store.append([...noise(700), wanted[0]!, ...noise(1200), wanted[1]!, wanted[2]!, ...noise(600)]);
    const first = await store.read({ types: ['job.*'], limit: 2 });
    expect(first.events.map((e) => e.type)).toEqual(['job.a', 'job.b']);
    const rest = await store.read({ types: ['job.*'], limit: 2, after: first.next });
    expect(rest.events.map((e) => e.type)).toEqual(['job.c']);
    expect(rest.next).toBeUndefined();
    const back = await store.read({ types: ['job.*'], direction: 'backward', limit: 1 });
    expect(back.events.map((e) => e.type)).toEqual(['job.c']);
  });

  it('flags truncation per stream: retention in another stream does not truncate this one', async () => {
    const store = await freshStore({ maxEventsPerStream: 2 });
    const [kept] = await store.append([event({ stream: 'calm' })]);
    await store.append([1, 2, 3, 4].map(() => event({ stream: 'busy' })));
    expect((await store.read({ stream: 'calm', after: kept!.cursor })).truncated).toBeFalsy();
    expect((await store.read({ after: kept!.cursor })).truncated).toBe(true);
    const bus = new EventBus({ store });
    const sub = bus.subscribe('**', { stream: 'busy', from: { after: kept!.cursor }, onTruncated: 'signal' });
    expect((await sub.next()).value).toBeInstanceOf(HistoryTruncated);
    await bus.close();
    await store.close();
  });

  it('rejects a cursor it did not issue, and refuses work once closed', async () => {
    const store = await freshStore();
    for (const after of ['abc', '1', '99999999999999999999']) {
      await expect(store.read({ after })).rejects.toMatchObject({ code: 'INVALID_OPTION' });
    }
    await store.close();
    await expect(store.append([event()])).rejects.toMatchObject({ code: 'CLOSED' });
  });
});
