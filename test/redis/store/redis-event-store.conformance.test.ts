import { Redis } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';
import { ioredisClient, RedisEventStore } from '../../../src/redis/index.js';
import { describeEventStore } from '../../../src/testing/index.js';
import {
  connectNodeRedis,
  deletePrefix,
  type NodeRedisClient,
  REDIS_URL,
  uniquePrefix,
} from './redis-fixtures.js';

// One prefix per store the suite makes, all deleted at the end.
const prefixes: string[] = [];
let client: NodeRedisClient;
let ioredis: Redis;

beforeAll(async () => {
  client = await connectNodeRedis();
  ioredis = new Redis(REDIS_URL, { lazyConnect: true });
  ioredis.on('error', () => {});
  await ioredis.connect();
});

afterAll(async () => {
  for (const prefix of prefixes.splice(0)) await deletePrefix(client, prefix);
  client.destroy();
  ioredis.disconnect();
});

function fresh(label: string): string {
  const prefix = uniquePrefix(label);
  prefixes.push(prefix);
  return prefix;
}

describeEventStore(
  'RedisEventStore (node-redis)',
  (hints) => new RedisEventStore({ client, prefix: fresh('node'), ...hints }),
  { retention: true },
);

describeEventStore(
  'RedisEventStore (ioredis)',
  (hints) => new RedisEventStore({ client: ioredisClient(ioredis), prefix: fresh('io'), ...hints }),
  { retention: true },
);
