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

  describe('withdrawal signals (made once and reused: each costs ~2.8 µs on Node 20)', () => {
    /** The real connection, recording the withdrawal signal each command was sent with. */
    function recording(): { connection: RedisConnection; signals: (AbortSignal | undefined)[] } {
      const signals: (AbortSignal | undefined)[] = [];
      return {
        signals,
        connection: {
          isOpen: true,
          send: (args, options) => {
            signals.push(options?.signal);
            return connection.send(args, options);
          },
          duplicate: () => connection.duplicate(),
          destroy: () => {},
        },
      };
    }

    it('a call after another has settled reuses its signal; calls in flight at once never share one', async () => {
      const calls = new RedisCalls(5000);
      const { connection: recorded, signals } = recording();
      await calls.sendAll(recorded, [
        ['PING', 'a'],
        ['PING', 'b'],
      ]);
      await calls.send(recorded, ['PING', 'c']);
      expect(signals[0]).toBe(signals[1]); // one per call, shared by its commands
      expect(signals[2]).toBe(signals[0]);
      const together = [calls.send(recorded, ['PING', 'd']), calls.send(recorded, ['PING', 'e'])];
      await Promise.all(together);
      expect(signals[3]).not.toBe(signals[4]);
      expect(signals.every((signal) => signal !== undefined && !signal.aborted)).toBe(true);
    });

    it('a signal aborted by a deadline or by the caller is never handed to a later call', async () => {
      const calls = new RedisCalls(5000);
      const { connection: recorded, signals } = recording();
      const timedOut = calls.send(recorded, ['XREAD', 'BLOCK', '300', 'STREAMS', `${key}:stream`, '$'], {
        timeoutMs: 50,
      });
      await expect(timedOut).rejects.toThrow(/did not answer XREAD within 50 ms/);
      const abort = new AbortController();
      const aborted = calls.send(recorded, ['XREAD', 'BLOCK', '300', 'STREAMS', `${key}:stream`, '$'], {
        signal: abort.signal,
      });
      abort.abort(new Error('stop'));
      await expect(aborted).rejects.toThrow('stop');
      // Let the blocked reads answer (to nobody), then call again.
      await new Promise((resolve) => setTimeout(resolve, 400));
      expect(await calls.send(recorded, ['PING', 'after'])).toBe('after');
      expect(signals[0]!.aborted && signals[1]!.aborted).toBe(true);
      expect(signals[2]).not.toBe(signals[0]);
      expect(signals[2]).not.toBe(signals[1]);
      expect(signals[2]!.aborted).toBe(false);
    });
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
