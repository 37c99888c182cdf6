// Entry point of `busline/redis`: the Redis adapters. `redis` is an optional peer dependency;
// nothing here imports it (clients are used through the small RedisConnection port).

export { type IoRedisClientLike, ioredisClient } from './client/ioredis-client.js';
export { type NodeRedisClientLike, nodeRedisClient } from './client/node-redis-client.js';
export {
  CommandNotSentError,
  type RedisConnection,
  type RedisReply,
  type SendOptions,
} from './client/redis-connection.js';
export { RedisRateLimiter, type RedisRateLimiterOptions } from './limit/redis-rate-limiter.js';
export type { InvalidEntry, InvalidEntryHandler } from './store/invalid-entries.js';
export {
  REDIS_STORE_DEFAULTS,
  RedisEventStore,
  type RedisEventStoreOptions,
} from './store/redis-event-store.js';
