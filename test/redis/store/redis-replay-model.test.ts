import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisEventStore } from '../../../src/redis/index.js';
import { checked, command, run } from '../../subscription/replay-model.js';
import { connectNodeRedis, deletePrefix, type NodeRedisClient, uniquePrefix } from './redis-fixtures.js';

/**
 * The replay → live model test again, on a real Redis: the bus then delivers through its
 * live feed (the store's tail), so this checks the handover on the shared-store path.
 * Fewer runs than on the memory store: each run is a real round trip per publish.
 */
let client: NodeRedisClient;
beforeAll(async () => {
  client = await connectNodeRedis();
});
afterAll(async () => {
  await client.quit();
});

describe('replay → live handover (model test, RedisEventStore)', () => {
  it('gives every subscription exactly the matching suffix of the log, under concurrent publishes', async () => {
    const before = checked.seen;
    await fc.assert(
      fc.asyncProperty(
        fc.array(command, { minLength: 5, maxLength: 30 }),
        fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 4 }),
        (commands, delays) =>
          run(
            () => {
              const prefix = uniquePrefix('replay-model');
              return {
                store: new RedisEventStore({ client, prefix, maxEventsPerStream: 100_000 }),
                cleanup: async () => {
                  await deletePrefix(client, prefix);
                },
              };
            },
            commands,
            delays,
          ),
      ),
      { numRuns: 40 },
    );
    expect(checked.seen - before).toBeGreaterThan(100);
  }, 120_000);
});
