import { afterAll, beforeAll, expect, it } from 'vitest';
import { nodeRedisClient, type RedisConnection, RedisEventStore } from '../../../src/redis/index.js';
import { encodeStreamName, RedisKeys } from '../../../src/redis/store/redis-keys.js';
import {
  connectNodeRedis,
  deletePrefix,
  testEvent as event,
  type NodeRedisClient,
  uniquePrefix,
} from './redis-fixtures.js';

/**
 * A read is not one atomic script: a snapshot of the marks, the XRANGE, a second snapshot,
 * pipelined. Here another writer's append, which trims the stream, lands exactly between the
 * first snapshot and the XRANGE (it is sent on the same connection in between, so Redis runs it
 * there). The read must notice and read again: the events after the cursor are gone, so the
 * page is `truncated`, never a silent gap.
 */
let client: NodeRedisClient;
const prefix = uniquePrefix('read-race');

beforeAll(async () => {
  client = await connectNodeRedis();
});
afterAll(async () => {
  await deletePrefix(client, prefix);
  client.destroy();
});

it('re-reads a chunk whose stream was trimmed between the snapshot and the XRANGE, and flags the gap', async () => {
  const inner = nodeRedisClient(client);
  const streamKey = new RedisKeys(prefix).stream(encodeStreamName('s'));
  let interpose: (() => void) | undefined;
  const connection: RedisConnection = {
    send(args, options) {
      if (args[0] === 'XRANGE' && args[1] === streamKey && interpose !== undefined) {
        const run = interpose;
        interpose = undefined;
        run(); // its EVALSHA is written now, before this XRANGE
      }
      return inner.send(args, options);
    },
    duplicate: (signal) => inner.duplicate(signal),
    destroy: () => inner.destroy(),
    get isOpen() {
      return inner.isOpen;
    },
  };
  const store = new RedisEventStore({ client: connection, prefix, maxEventsPerStream: 5 });
  const writer = new RedisEventStore({ client: connection, prefix, maxEventsPerStream: 5 });
  const first = await store.append([1, 2, 3, 4, 5].map((n) => event({ stream: 's', data: n })));
  const cursor = first[1]!.cursor; // after event 2

  let trimmed: Promise<unknown> | undefined;
  interpose = () => {
    trimmed = writer.append([6, 7, 8].map((n) => event({ stream: 's', data: n }))); // drops 1, 2, 3
  };
  const page = await store.read({ stream: 's', after: cursor, limit: 10 });
  await trimmed;
  expect(trimmed).toBeDefined(); // the trim did land inside the read
  expect(page.events.map((e) => e.data)).toEqual([4, 5, 6, 7, 8]);
  expect(page.truncated).toBe(true); // event 3 is gone: a gap, reported

  // Without interference the same read of the current state agrees.
  const again = await store.read({ stream: 's', after: cursor, limit: 10 });
  expect(again).toEqual(page);
  await store.close();
  await writer.close();
});
