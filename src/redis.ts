// Entry point of `busline/redis`: the Redis adapters. `redis` is an optional peer dependency;
// nothing here imports it (clients are used through the small RedisConnection port).

export { RedisRateLimiter, type RedisRateLimiterOptions } from './limit/redis/redis-rate-limiter.js';
export { type IoRedisClientLike, ioredisClient } from './store/redis/ioredis-client.js';
export { type NodeRedisClientLike, nodeRedisClient } from './store/redis/node-redis-client.js';
export type { RedisConnection, RedisReply, SendOptions } from './store/redis/redis-connection.js';
export {
  REDIS_STORE_DEFAULTS,
  RedisEventStore,
  type RedisEventStoreOptions,
} from './store/redis/redis-event-store.js';
