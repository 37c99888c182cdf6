import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventBus, HistoryTruncated, type StoredEvent } from '../../../src/index.js';
import { RedisEventStore } from '../../../src/redis/index.js';
import { RedisKeys } from '../../../src/redis/store/redis-keys.js';
import { createSSEHandler } from '../../../src/sse/index.js';
import { type CountingConnection, countingConnection } from './counting-connection.js';
import {
  connectNodeRedis,
  deletePrefix,
  type NodeRedisClient,
  uniquePrefix,
  waitFor,
} from './redis-fixtures.js';

/**
 * The proof script redis-replay-scan.mjs of the security review (finding 2) as regression
 * tests: a replay that matches nothing stops within one read when its reader leaves, and a
 * Last-Event-ID of another epoch answers "history truncated" and goes live, without reading
 * the log.
 */
const STORED = 50_000;
/** A well-formed cursor of no epoch this store ever had (the proof script's Last-Event-ID). */
const FORGED = '0000000000-000000000000000-0000000000';

let client: NodeRedisClient;
let prefix: string;
let counting: CountingConnection;
let store: RedisEventStore;
let log: string;

beforeAll(async () => {
  client = await connectNodeRedis();
  prefix = uniquePrefix('hostile-replay');
  log = new RedisKeys(prefix).log;
  counting = countingConnection(client);
  store = new RedisEventStore({ client: counting.connection, prefix });
  // As in the proof script: 50k events of about 300 bytes over 50 streams.
  const pad = 'p'.repeat(250);
  for (let i = 0; i < STORED; i += 1000) {
    await store.append(
      Array.from({ length: 1000 }, (_, j) => ({
        id: `stored-${i + j}`,
        type: 'task.updated',
        stream: `s${j % 50}`,
        time: 1_700_000_000_000 + i + j,
        data: { i: i + j, pad },
      })),
    );
  }
}, 120_000);

afterAll(async () => {
  await store.close();
  await deletePrefix(client, prefix);
  client.destroy();
});

/** Entries the XRANGE calls on the log sent since `from` asked for (their COUNT). */
function logEntriesAsked(from: number): number {
  return counting.sent
    .slice(from)
    .filter((c) => c.args[0] === 'XRANGE' && c.args[1] === log)
    .reduce((sum, c) => sum + Number(c.args[c.args.indexOf('COUNT') + 1]), 0);
}

async function newBus(): Promise<{ bus: EventBus; errors: unknown[] }> {
  const errors: unknown[] = [];
  const bus = new EventBus({ store, onError: (error) => errors.push(error) });
  await bus.ready();
  return { bus, errors };
}

describe('a replay that matches nothing (50k stored events)', () => {
  it('stops within one read (readScanLimit entries) once its reader returns', async () => {
    const { bus } = await newBus();
    const start = counting.sent.length;
    const sub = bus.subscribe('no.such.type', { from: 'start' });
    const iterator = sub[Symbol.asyncIterator]();
    const next = iterator.next();
    // The reader leaves while the replay is under way: at its third XRANGE of the log.
    let returned: Promise<unknown> | undefined;
    let atReturn = 0;
    let ranges = 0;
    counting.onSend = (args) => {
      if (args[0] !== 'XRANGE' || args[1] !== log || ++ranges !== 3) return;
      atReturn = counting.sent.length + 1; // this XRANGE is sent before the return
      returned = iterator.return!();
    };
    await waitFor(() => returned !== undefined);
    counting.onSend = undefined;
    await returned;
    expect(await next).toEqual({ done: true, value: undefined });
    await counting.quiet();
    // What the replay asked Redis for after the reader left: the rest of one read at most.
    expect(logEntriesAsked(atReturn)).toBeLessThanOrEqual(2000);
    // The log was not scanned: a few reads, not the 50,000 entries (the bug read them all).
    expect(logEntriesAsked(start)).toBeLessThanOrEqual(3 * 2000);
    await bus.close();
  });

  it('still reaches the end, read by read, while its reader stays', async () => {
    const { bus } = await newBus();
    const start = counting.sent.length;
    const sub = bus.subscribe(['no.such.type', 'end.mark'], { from: 'start' });
    await bus.publish({ type: 'end.mark', data: null });
    for await (const event of sub) {
      expect(event.type).toBe('end.mark');
      break;
    }
    // 50,000 entries in reads of at most 2,000: at least 25 reads' worth of XRANGE.
    expect(logEntriesAsked(start)).toBeGreaterThanOrEqual(STORED);
    await bus.close();
  });
});

describe('a cursor of another epoch (a forged or stale Last-Event-ID)', () => {
  it('answers truncated at once from the store: no events, no next', async () => {
    const start = counting.sent.length;
    expect(await store.read({ after: FORGED, types: ['no.such.type'] })).toEqual({
      events: [],
      truncated: true,
    });
    // One pipelined chunk of a single entry (the store knows its epoch: the cursor's is another).
    expect(logEntriesAsked(start)).toBe(1);
  });

  it('reports HISTORY_TRUNCATED to a subscription and goes live, replaying nothing', async () => {
    const { bus } = await newBus();
    const start = counting.sent.length;
    // `task.*` matches every stored event: a replay from the start would yield them first.
    const sub = bus.subscribe('task.*', { from: { after: FORGED }, onTruncated: 'signal' });
    const iterator = sub[Symbol.asyncIterator]();
    const first = await iterator.next();
    expect(first.value).toBeInstanceOf(HistoryTruncated);
    expect(first.value).toMatchObject({ after: FORGED, oldest: expect.stringMatching(/^[0-9a-f]{10}-/) });
    await bus.publish({ type: 'task.live', data: 'now' });
    const second = await iterator.next();
    expect((second.value as StoredEvent).type).toBe('task.live');
    // One entry for the truncated answer, two for `oldest`.
    expect(logEntriesAsked(start)).toBeLessThanOrEqual(3);
    await iterator.return!();
    await bus.close();
  });

  it('ends a default subscription with HistoryTruncatedError', async () => {
    const { bus } = await newBus();
    const sub = bus.subscribe('task.*', { from: { after: FORGED } });
    await expect(sub[Symbol.asyncIterator]().next()).rejects.toMatchObject({
      code: 'HISTORY_TRUNCATED',
      after: FORGED,
    });
    await bus.close();
  });

  it('over SSE (the proof script): history_truncated, then live events, and the log is not read', async () => {
    const { bus } = await newBus();
    const server = http.createServer(createSSEHandler(bus, { pattern: 'task.*' })).listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const { port } = server.address() as { port: number };
    const start = counting.sent.length;
    let body = '';
    const request = http.get({
      port,
      host: '127.0.0.1',
      path: '/events',
      headers: { 'last-event-id': FORGED },
    });
    request.on('response', (res) => {
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
    });
    request.on('error', () => {});
    await waitFor(() => body.includes('history_truncated'));
    await bus.publish({ type: 'task.live', data: 'over-sse' });
    await waitFor(() => body.includes('task.live'));
    expect(body).not.toContain('task.updated');
    expect(logEntriesAsked(start)).toBeLessThanOrEqual(3);
    request.destroy();
    await new Promise((resolve) => server.close(resolve));
    await bus.close();
  });
});
