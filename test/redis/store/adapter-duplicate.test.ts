import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ioredisClient, nodeRedisClient, type RedisConnection } from '../../../src/redis/index.js';
import { connectNodeRedis, type NodeRedisClient, REDIS_URL, waitFor } from './redis-fixtures.js';

/**
 * The adapters' duplicate(): aborted while it connects (the store closed during a
 * tail's first read), it must leave no connection behind. node-redis v6 completes a connect that
 * was under way when destroy() was called, and that socket kept the process from exiting.
 */
let observer: NodeRedisClient;
beforeAll(async () => {
  observer = await connectNodeRedis();
});
afterAll(() => observer.destroy());

/** Connections to the server that carry `name` (CLIENT SETNAME, which duplicates inherit). */
async function connectionsNamed(name: string): Promise<number> {
  const list = String(await observer.sendCommand(['CLIENT', 'LIST']));
  return list.split('\n').filter((line) => line.includes(` name=${name} `)).length;
}

async function expectNoLeftover(name: string, adapter: RedisConnection): Promise<void> {
  expect(await connectionsNamed(name)).toBe(1);
  const abort = new AbortController();
  const duplicating = adapter.duplicate(abort.signal);
  abort.abort(new Error('closed'));
  await expect(duplicating).rejects.toThrow('closed');
  // The half-open copy may still finish connecting; then it is closed: back to one.
  await waitFor(async () => (await connectionsNamed(name)) === 1, 5000);
  // And it stays that way (a connect completing late would show up here).
  await new Promise((resolve) => setTimeout(resolve, 200));
  expect(await connectionsNamed(name)).toBe(1);
}

it('node-redis: leaves no connection open when duplicate() is aborted while connecting', async () => {
  const name = `busline-dup-${randomBytes(4).toString('hex')}`;
  const client = createClient({ url: REDIS_URL, name });
  client.on('error', () => {});
  await client.connect();
  try {
    await expectNoLeftover(name, nodeRedisClient(client));
  } finally {
    client.destroy();
  }
});

it('ioredis: leaves no connection open when duplicate() is aborted while connecting', async () => {
  const name = `busline-dup-${randomBytes(4).toString('hex')}`;
  const client = new Redis(REDIS_URL, { connectionName: name });
  client.on('error', () => {});
  try {
    await waitFor(() => client.status === 'ready', 5000);
    await expectNoLeftover(name, ioredisClient(client));
  } finally {
    client.disconnect();
  }
});
