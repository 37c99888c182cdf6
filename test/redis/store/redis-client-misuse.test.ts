import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventBus, StoreUnavailableError } from '../../../src/index.js';
import {
  CommandNotSentError,
  ioredisClient,
  RedisEventStore,
  RedisRateLimiter,
} from '../../../src/redis/index.js';
import {
  connectNodeRedis,
  deletePrefix,
  type NodeRedisClient,
  REDIS_URL,
  testEvent,
  uniquePrefix,
  waitFor,
} from './redis-fixtures.js';

/**
 * A client handed over unconnected, or closed before the bus (issue #14, item 5): the mistake
 * is named at once with what to do, and a closed client leaves nothing of the store's open.
 */
let observer: NodeRedisClient;
const prefixes: string[] = [];
const fresh = (label: string) => {
  const prefix = uniquePrefix(label);
  prefixes.push(prefix);
  return prefix;
};

beforeAll(async () => {
  observer = await connectNodeRedis();
});

afterAll(async () => {
  for (const prefix of prefixes) await deletePrefix(observer, prefix);
  observer.destroy();
});

/** Connections to the server named `name` (CLIENT SETNAME; the store's duplicate inherits it). */
async function connectionsNamed(name: string): Promise<number> {
  const list = String(await observer.sendCommand(['CLIENT', 'LIST']));
  return list.split('\n').filter((line) => line.includes(` name=${name} `)).length;
}

describe('a client that was never connected', () => {
  it('is refused by RedisEventStore at once, naming `await client.connect()`', () => {
    const client = createClient({ url: REDIS_URL });
    expect(() => new RedisEventStore({ client, prefix: fresh('unconnected') })).toThrow(
      expect.objectContaining({
        code: 'INVALID_OPTION',
        message: expect.stringContaining('await client.connect()'),
      }),
    );
  });

  it('is refused by RedisRateLimiter the same way', () => {
    const client = createClient({ url: REDIS_URL });
    expect(() => new RedisRateLimiter({ client, rate: 1, intervalMs: 1000 })).toThrow(
      /await client\.connect\(\)/,
    );
  });

  it('is refused once closed too (closed before it was handed over)', async () => {
    const client = await connectNodeRedis();
    await client.quit();
    expect(() => new RedisEventStore({ client, prefix: fresh('quit-before') })).toThrow(
      /await client\.connect\(\)/,
    );
  });

  it('ioredis: a closed client (status "end") is refused, naming `await redis.connect()`', async () => {
    const redis = new Redis(REDIS_URL);
    redis.on('error', () => {});
    await redis.quit();
    await waitFor(() => redis.status === 'end');
    expect(() => ioredisClient(redis)).toThrow(
      expect.objectContaining({
        code: 'INVALID_OPTION',
        message: expect.stringContaining('await redis.connect()'),
      }),
    );
  });

  it('ioredis: a lazyConnect client that has not connected yet works (it connects on its first command)', async () => {
    const redis = new Redis(REDIS_URL, { lazyConnect: true });
    redis.on('error', () => {});
    const store = new RedisEventStore({ client: ioredisClient(redis), prefix: fresh('lazy') });
    const bus = new EventBus({ store });
    await bus.ready();
    expect((await bus.publish({ type: 'job.created', data: 1 })).status).toBe('delivered');
    await bus.close();
    await store.close();
    redis.disconnect();
  });
});

describe('a client closed after it was handed over', () => {
  it('node-redis: a call fails at once, saying the client is closed and what to do, with the cause', async () => {
    const client = await connectNodeRedis();
    // A long command timeout: only a refusal can end the call quickly.
    const store = new RedisEventStore({ client, prefix: fresh('closed-after'), commandTimeoutMs: 60_000 });
    await client.quit();
    const error = (await store.append([testEvent()]).catch((e: unknown) => e)) as StoreUnavailableError;
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect(error.mayHaveApplied).toBe(false);
    expect(error.message).toMatch(/node-redis client is closed: call `await client\.connect\(\)`/);
    const causes = causeChain(error);
    expect(causes.some((cause) => cause instanceof CommandNotSentError)).toBe(true);
    expect(causes.at(-1)).toMatchObject({ message: 'The client is closed' }); // node-redis's own
    await store.close();
  });

  it('ioredis: a call fails at once, saying what to do', async () => {
    const redis = new Redis(REDIS_URL);
    redis.on('error', () => {});
    const store = new RedisEventStore({
      client: ioredisClient(redis),
      prefix: fresh('io-closed'),
      commandTimeoutMs: 60_000,
    });
    await store.stats(); // connected and working
    redis.disconnect();
    await waitFor(() => redis.status === 'end');
    const error = (await store.read({}).catch((e: unknown) => e)) as StoreUnavailableError;
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect(error.message).toMatch(/ioredis client is closed .*: call `await redis\.connect\(\)`/);
    await store.close();
  });

  for (const kind of ['node-redis', 'ioredis'] as const) {
    it(`${kind}: a tail ends with CLOSED and closes the blocking connection it opened`, async () => {
      const name = `busline-misuse-${randomBytes(4).toString('hex')}`;
      const { store, closeClient } = await namedStore(kind, name);
      const abort = new AbortController();
      const tail = (async () => {
        for await (const _ of store.tail('now', abort.signal)) {
          // no events are appended
        }
      })();
      tail.catch(() => {});
      await waitFor(async () => (await connectionsNamed(name)) === 2); // the client and the store's duplicate
      await closeClient();
      await expect(tail).rejects.toMatchObject({
        code: 'CLOSED',
        message: expect.stringMatching(/client .* was closed/),
      });
      await waitFor(async () => (await connectionsNamed(name)) === 0);
      abort.abort();
      await store.close();
    });
  }
});

/** The error's causes, outermost first. */
function causeChain(error: Error): unknown[] {
  const causes: unknown[] = [];
  for (let cause = error.cause; cause !== undefined; cause = (cause as Error).cause) causes.push(cause);
  return causes;
}

async function namedStore(
  kind: 'node-redis' | 'ioredis',
  name: string,
): Promise<{ store: RedisEventStore; closeClient: () => Promise<unknown> }> {
  const prefix = fresh('tail-closed');
  if (kind === 'ioredis') {
    const redis = new Redis(REDIS_URL, { connectionName: name });
    redis.on('error', () => {});
    return {
      store: new RedisEventStore({ client: ioredisClient(redis), prefix }),
      closeClient: () => redis.quit(),
    };
  }
  const client = createClient({ url: REDIS_URL, name });
  client.on('error', () => {});
  await client.connect();
  return { store: new RedisEventStore({ client, prefix }), closeClient: () => client.quit() };
}

describe('a process that closes its client before its bus', () => {
  const run = promisify(execFile);
  const child = resolve(import.meta.dirname, 'client-closed-child.ts');

  const clientClosed =
    /^\[busline\] feed failed: ClosedError \[CLOSED\]: The Redis client given to the store was closed/;
  for (const [kind, how, report] of [
    ['node-redis', 'quit', clientClosed],
    ['node-redis', 'close', clientClosed],
    ['ioredis', 'quit', clientClosed],
    // The store closed before the bus too: its feed stops retrying.
    [
      'node-redis',
      'store-first',
      /^\[busline\] feed failed: ClosedError \[CLOSED\]: The Redis event store is closed$/,
    ],
  ] as const) {
    it(`exits on its own (${kind}, ${how}), and the default onError says why once`, async () => {
      // A generous bound: the child exits within about a second once its client is closed.
      const { stdout, stderr } = await run(
        process.execPath,
        ['--import', 'tsx', child, kind, how, fresh('child')],
        { encoding: 'utf8', timeout: 20_000, killSignal: 'SIGKILL' },
      );
      expect(stdout).toBe('client closed\n');
      const reports = stderr.split('\n').filter((line) => line.startsWith('[busline]'));
      expect(reports).toEqual([expect.stringMatching(report)]);
    });
  }
});
