// Entry point of `busline/redis`: the Redis adapters. `redis` is an optional peer dependency;
// nothing here imports it (clients are used through the small RedisConnection port).

import { registerSharedDelivery } from '../bus/load-shared-delivery.js';
import { SharedDelivery } from '../bus/shared-delivery.js';

// A Redis store is shared between processes: a bus on it delivers through SharedDelivery, which
// the core loads on first need (a memory-store bundle leaves it out). Registered here, a bus on
// Redis has it at once, with no dynamic import before its feed starts.
registerSharedDelivery(SharedDelivery);

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
