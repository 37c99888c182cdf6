import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventBus, type StoredEvent } from '../../src/index.js';
import { ioredisClient, type RedisConnection, RedisEventStore } from '../../src/redis/index.js';
import { referenceMatches } from '../pattern/reference-matcher.js';
import { OwnRedis } from '../redis/store/own-redis.js';
import { connectNodeRedis, waitFor } from '../redis/store/redis-fixtures.js';

/**
 * docs/redis.md, "Failures and timeouts" and "Many processes on one bus", at the bus level:
 * two buses (each with its own client and store, as two processes would have) share one
 * Redis that persists to its AOF, publish without pause, and a `kill -9` takes Redis down
 * mid-stream. Publishes during the outage must reject with STORE_UNAVAILABLE within the
 * store's `commandTimeoutMs`; after the restart every subscriber — `on` handlers and
 * `subscribe` iterators, wildcards — must resume by itself and end up with exactly the
 * matching events of the store's log: none missing, none twice, in log order. Once through
 * node-redis, once through ioredis (which re-sends what it queued while disconnected).
 */
const COMMAND_TIMEOUT_MS = 1000;
const PATTERNS = ['**', 'task.*', '**.failed'] as const;
const TYPES = ['task.created', 'task.failed', 'job.run.failed', 'job.done'];
const STREAMS = ['s0', 's1', 's2', 's3'];
/** Publishing loops per bus, each awaiting its own publish before the next. */
const PUBLISHERS = 3;

let redis: OwnRedis;
const clients: { destroy(): void }[] = [];

beforeAll(async () => {
  redis = await OwnRedis.onFreePort();
  await redis.start();
}, 20_000);

afterAll(async () => {
  for (const client of clients) client.destroy();
  await redis?.remove();
});

type ClientKind = 'node-redis' | 'ioredis';

/** A connected client of the test's Redis that reconnects quickly (at most every 500 ms). */
async function connect(
  kind: ClientKind,
): Promise<RedisConnection | Awaited<ReturnType<typeof connectNodeRedis>>> {
  if (kind === 'node-redis') {
    const client = await connectNodeRedis(redis.url);
    clients.push(client);
    return client;
  }
  const client = new Redis(redis.url, {
    lazyConnect: true,
    retryStrategy: (times) => Math.min(50 * 2 ** times, 500),
  });
  client.on('error', () => {});
  await client.connect();
  clients.push({ destroy: () => client.disconnect() });
  return ioredisClient(client);
}

/** One "process": a client, a store and a bus, with handlers and iterators recording what they get. */
async function startProcess(kind: ClientKind, prefix: string, name: string) {
  const store = new RedisEventStore({
    client: await connect(kind),
    prefix,
    commandTimeoutMs: COMMAND_TIMEOUT_MS,
    blockMs: 200,
  });
  const errors: { source: string; code: unknown }[] = [];
  const bus = new EventBus({
    store,
    feedTimeoutMs: 3000,
    onError: (error, context) =>
      errors.push({ source: context.source, code: (error as { code?: unknown }).code }),
  });
  const received: Record<string, StoredEvent[]> = {};
  for (const pattern of PATTERNS) {
    const list: StoredEvent[] = (received[`on ${pattern}`] = []);
    bus.on(pattern, (event) => {
      list.push(event);
    });
  }
  const iterating: Promise<unknown>[] = [];
  for (const pattern of ['**', '**.failed'] as const) {
    const list: StoredEvent[] = (received[`subscribe ${pattern}`] = []);
    const subscription = bus.subscribe(pattern, { bufferSize: 100_000 });
    iterating.push(
      (async () => {
        for await (const event of subscription) list.push(event);
      })(),
    );
  }
  await bus.ready();

  // Publishing without pause, single events and batches, through the crash and the restart.
  const acknowledged: string[] = [];
  const failures: { code: unknown; ms: number; started: number }[] = [];
  let publishing = true;
  let publisher: Promise<void> | undefined;
  let n = 0;
  const next = () => {
    n++;
    return { type: TYPES[n % TYPES.length]!, stream: STREAMS[(n * 7) % STREAMS.length]!, data: { name, n } };
  };
  const publish = async () => {
    while (publishing) {
      const started = Date.now();
      try {
        const results =
          n % 2 ? [await bus.publish(next())] : await bus.publishBatch([next(), next(), next()]);
        for (const result of results) {
          expect(result.status).toBe('delivered');
          acknowledged.push(result.cursor!);
        }
      } catch (error) {
        failures.push({ code: (error as { code?: unknown }).code, ms: Date.now() - started, started });
      }
    }
  };
  return {
    bus,
    store,
    received,
    errors,
    acknowledged,
    failures,
    iterating,
    startPublishing() {
      publisher = Promise.all(Array.from({ length: PUBLISHERS }, publish)).then(() => {});
    },
    async stopPublishing() {
      publishing = false;
      await publisher;
    },
  };
}

describe.each(['node-redis', 'ioredis'] as const)('through %s', (kind) => {
  it('two buses on one Redis survive kill -9: publishes fail fast while it is down, subscribers resume with every event once, in order', async () => {
    // Both feeds positioned before anyone publishes: each bus then sees every event of the log.
    const prefix = `bus-fault-${kind}`;
    const processes = [await startProcess(kind, prefix, 'a'), await startProcess(kind, prefix, 'b')];
    for (const p of processes) p.startPublishing();
    const acked = () => processes.reduce((sum, p) => sum + p.acknowledged.length, 0);
    await waitFor(() => acked() >= 300 && processes.every((p) => p.received['on **']!.length > 0));

    await redis.kill();
    // A real outage: every publisher has seen publishes sent while Redis was down fail (each one
    // after waiting for the command timeout), not only the ones in flight at the crash.
    const killed = Date.now();
    const sentWhileDown = (p: (typeof processes)[number]) => p.failures.filter((f) => f.started > killed);
    await waitFor(() => processes.every((p) => sentWhileDown(p).length >= 2 * PUBLISHERS), 15_000);
    await redis.start();
    const afterRestart = acked();
    await waitFor(() => acked() >= afterRestart + 300, 15_000);
    for (const p of processes) await p.stopPublishing();

    // Every publish that failed failed typed, and none waited much past the command timeout
    // (a generous bound: it checks "no hang", not speed).
    for (const p of processes) {
      expect(sentWhileDown(p).length).toBeGreaterThanOrEqual(2 * PUBLISHERS);
      for (const failure of p.failures) {
        expect(failure.code).toBe('STORE_UNAVAILABLE');
        expect(failure.ms).toBeLessThan(COMMAND_TIMEOUT_MS + 2500);
      }
    }

    // The reference: the whole log, read back after the fact.
    const reference = new RedisEventStore({ client: await connect('node-redis'), prefix });
    const log: StoredEvent[] = [];
    for (let after: string | undefined; ; ) {
      const page = await reference.read({ after, limit: 1000 });
      log.push(...page.events);
      if (page.next === undefined) break;
      after = page.next;
    }
    await reference.close();
    const stored = new Set(log.map((e) => e.cursor));
    for (const p of processes) expect(p.acknowledged.filter((c) => !stored.has(c))).toEqual([]); // none lost

    // Every subscriber catches up by itself (bounded wait), then holds exactly its share of the log.
    const last = log[log.length - 1]!.cursor;
    await waitFor(() => processes.every((p) => p.received['on **']!.at(-1)?.cursor === last), 15_000);
    await waitFor(() => processes.every((p) => p.received['subscribe **']!.at(-1)?.cursor === last), 5000);
    for (const p of processes) {
      for (const [name, got] of Object.entries(p.received)) {
        const pattern = name.slice(name.indexOf(' ') + 1);
        const expected = log.filter((e) => referenceMatches(pattern, e.type)).map((e) => e.cursor);
        // No gap, no duplicate, in log order (which implies store order per stream).
        expect(
          got.map((e) => e.cursor),
          name,
        ).toEqual(expected);
      }
      // The feed's tail retried the outage by itself: nothing reached onError, no iterator ended.
      expect(p.errors).toEqual([]);
      expect((await p.store.stats()).tailRetries).toBeGreaterThan(0);
    }
    await Promise.all(processes.map((p) => p.bus.close()));
    await Promise.all(processes.flatMap((p) => p.iterating));
  }, 40_000);
});
