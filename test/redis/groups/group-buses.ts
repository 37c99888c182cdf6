import { afterEach, beforeAll } from 'vitest';
import { EventBus } from '../../../src/index.js';
import { RedisEventStore } from '../../../src/redis/index.js';
import {
  connectNodeRedis,
  deletePrefix,
  type NodeRedisClient,
  uniquePrefix,
} from '../store/redis-fixtures.js';

/**
 * Buses on one Redis prefix per test file, each with a connection of its own (as separate
 * processes would have), closed with their stores and deleted after each test. Call it at the
 * top of a test file: it registers the hooks.
 */
export function groupBuses(name: string): {
  readonly prefix: string;
  /** What the buses reported to onError since the last test. */
  readonly errors: unknown[];
  newBus(): Promise<{ bus: EventBus; client: NodeRedisClient }>;
} {
  let prefix = '';
  const opened: { bus: EventBus; store: RedisEventStore; client: NodeRedisClient }[] = [];
  const errors: unknown[] = [];
  beforeAll(() => {
    prefix = uniquePrefix(name);
  });
  afterEach(async () => {
    const closing = opened.splice(0);
    await Promise.all(closing.map(({ bus }) => bus.close()));
    // The bus closes only a store it made: these are the test's.
    await Promise.all(closing.map(({ store }) => store.close()));
    for (const { client } of closing) client.destroy();
    errors.length = 0;
    const cleaner = await connectNodeRedis();
    await deletePrefix(cleaner, prefix);
    cleaner.destroy();
  });
  return {
    get prefix() {
      return prefix;
    },
    errors,
    async newBus() {
      const client = await connectNodeRedis();
      const store = new RedisEventStore({ client, prefix, groupPollMs: 50 });
      const bus = new EventBus({ store, onError: (error) => errors.push(error) });
      opened.push({ bus, store, client });
      await bus.ready();
      return { bus, client };
    },
  };
}
