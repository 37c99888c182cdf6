import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StoreUnavailableError } from '../../../src/errors.js';
import { RedisCalls } from '../../../src/redis/client/redis-calls.js';
import type { RedisConnection } from '../../../src/redis/client/redis-connection.js';
import { nodeRedisClient } from '../../../src/redis/index.js';
import { connectNodeRedis, type NodeRedisClient, uniquePrefix } from './redis-fixtures.js';

let client: NodeRedisClient;
let connection: RedisConnection;
const key = `${uniquePrefix('calls')}:k`;

beforeAll(async () => {
  client = await connectNodeRedis();
  connection = nodeRedisClient(client);
});

afterAll(async () => {
  await client.del([key, `${key}:stream`]);
  client.destroy();
});

describe('RedisCalls (commands with a deadline and typed failures, against the real Redis)', () => {
  it('sendAll pipelines commands in order and resolves their replies in order', async () => {
    const calls = new RedisCalls(5000);
    const replies = await calls.sendAll(connection, [
      ['SET', key, 'a'],
      ['APPEND', key, 'b'],
      ['GET', key],
    ]);
    expect(replies).toEqual(['OK', 2, 'ab']);
  });

  it('rejects with StoreUnavailableError naming the commands when one of them fails', async () => {
    const calls = new RedisCalls(5000);
    const failing = calls.sendAll(connection, [
      ['SET', key, 'x'],
      ['HSET', key, 'f', 'v'], // WRONGTYPE: the key holds a string
    ]);
    await expect(failing).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(failing).rejects.toThrow(/SET\+HSET failed: WRONGTYPE/);
  });

  it('rejects once the deadline passes, and the connection answers the next command correctly', async () => {
    const calls = new RedisCalls(5000);
    const started = Date.now();
    const blocked = calls.sendAll(
      connection,
      [
        ['XREAD', 'BLOCK', '600', 'STREAMS', `${key}:stream`, '$'],
        ['PING', 'after-the-block'],
      ],
      { timeoutMs: 100 },
    );
    await expect(blocked).rejects.toThrow(/did not answer XREAD\+PING within 100 ms/);
    expect(Date.now() - started).toBeLessThan(550); // not the 600 ms the XREAD blocks
    // The late replies are still matched to their own commands: the next one gets its own answer.
    expect(await calls.send(connection, ['PING', 'next'])).toBe('next');
  });

  it('ends at once when the caller aborts, with the abort reason', async () => {
    const calls = new RedisCalls(5000);
    const abort = new AbortController();
    const blocked = calls.send(connection, ['XREAD', 'BLOCK', '300', 'STREAMS', `${key}:stream`, '$'], {
      signal: abort.signal,
    });
    const reason = new Error('stop');
    abort.abort(reason);
    await expect(blocked).rejects.toBe(reason);
    await expect(calls.send(connection, ['PING'], { signal: abort.signal })).rejects.toBe(reason);
  });
});
