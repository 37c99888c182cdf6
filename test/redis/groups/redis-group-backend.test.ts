import { afterAll, beforeAll } from 'vitest';
import { GROUP_BACKEND } from '../../../src/groups/group-backend.js';
import { RedisEventStore } from '../../../src/redis/index.js';
import { describeGroupBackend } from '../../groups/group-backend-contract.js';
import {
  connectNodeRedis,
  deletePrefix,
  type NodeRedisClient,
  uniquePrefix,
} from '../store/redis-fixtures.js';

let client: NodeRedisClient;
beforeAll(async () => {
  client = await connectNodeRedis();
});
afterAll(async () => {
  client.destroy();
});

describeGroupBackend('RedisGroupBackend', async () => {
  const prefix = uniquePrefix('groups');
  const store = new RedisEventStore({ client, prefix });
  const backend = store[GROUP_BACKEND]({ clock: Date.now, report: () => {} });
  return {
    backend,
    store,
    cleanup: async () => {
      await store.close();
      await deletePrefix(client, prefix);
    },
  };
});
