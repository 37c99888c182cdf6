import { randomBytes } from 'node:crypto';
import { createClient, type RedisClientType } from 'redis';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { RedisKeys } from '../../../src/redis/store/redis-keys.js';

/** The shared test server (CONVENTIONS.md: integration tests run against a real Redis). */
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

export type NodeRedisClient = RedisClientType;

/** A connected node-redis client whose errors are swallowed (tests watch outcomes, not logs). */
export async function connectNodeRedis(url = REDIS_URL, options: { disableOfflineQueue?: boolean } = {}) {
  const client = createClient({
    url,
    ...options,
    socket: { reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 500) },
  }) as unknown as NodeRedisClient;
  client.on('error', () => {});
  try {
    await client.connect();
  } catch (error) {
    throw new Error(`Redis is not reachable at ${url}: start it (see CONVENTIONS.md)`, { cause: error });
  }
  return client;
}

/** A prefix no other test (or run) uses. */
export function uniquePrefix(label: string): string {
  return `busline-test:${label}:${process.pid}:${randomBytes(4).toString('hex')}`;
}

/** Every key of a store prefix. */
export async function keysOf(client: NodeRedisClient, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const batch of client.scanIterator({ MATCH: new RedisKeys(prefix).pattern, COUNT: 1000 })) {
    keys.push(...batch);
  }
  return keys;
}

/** Deletes every key of a store prefix (and only those). */
export async function deletePrefix(client: NodeRedisClient, prefix: string): Promise<number> {
  const keys = await keysOf(client, prefix);
  for (let i = 0; i < keys.length; i += 500) await client.del(keys.slice(i, i + 500));
  return keys.length;
}

let nextId = 0;
/** A valid event with a unique id. */
export function testEvent(overrides: Record<string, unknown> = {}) {
  nextId++;
  return {
    id: `redis-test-${process.pid}-${nextId}-${randomBytes(3).toString('hex')}`,
    type: 'task.created',
    stream: 'default',
    time: 1_700_000_000_000 + nextId,
    data: { n: nextId },
    ...overrides,
  };
}

/** Polls `condition` until it holds; fails after `timeoutMs` (a bound, not a timing assertion). */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; !(await condition()); ) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * A test file's Redis: one client, and a fresh prefix per call of `prefix()`; after the file
 * every prefix is deleted and the client closed. Call it at the top of a test file (it
 * registers the hooks).
 */
export function redisTestFile(label: string) {
  let client: NodeRedisClient;
  const prefixes: string[] = [];
  beforeAll(async () => {
    client = await connectNodeRedis();
  });
  afterAll(async () => {
    for (const prefix of prefixes) await deletePrefix(client, prefix);
    client.destroy();
  });
  return {
    get client(): NodeRedisClient {
      return client;
    },
    prefix(): string {
      const prefix = uniquePrefix(label);
      prefixes.push(prefix);
      return prefix;
    },
  };
}

/**
 * Redis for tests that each need a client of their own (one they may close, block or count
 * through): `connect()` gives a client and a fresh prefix, deleted and closed after the test;
 * `defer(fn)` runs `fn` after the test too. Cleanups run newest first, so a store or bus
 * deferred after its `connect()` closes before its client does. Call it at the top of a test
 * file (it registers the hook).
 */
export function redisPerTest(label: string) {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  return {
    async connect(): Promise<{ client: NodeRedisClient; prefix: string }> {
      const client = await connectNodeRedis();
      const prefix = uniquePrefix(label);
      cleanups.push(async () => {
        await deletePrefix(client, prefix);
        client.destroy();
      });
      return { client, prefix };
    },
    defer(cleanup: () => unknown): void {
      cleanups.push(cleanup);
    },
  };
}
