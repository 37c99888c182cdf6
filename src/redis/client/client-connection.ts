import { InvalidOptionError } from '../../errors.js';
import { describe } from '../../event.js';
import { isIoRedisClient } from './ioredis-client.js';
import { isNodeRedisClient, nodeRedisClient } from './node-redis-client.js';
import type { RedisConnection } from './redis-connection.js';

/**
 * The connection behind a `client` option: a node-redis client is adapted, a RedisConnection is
 * used as is. A bare ioredis client is refused with a hint (it needs `ioredisClient()`).
 */
export function toRedisConnection(client: unknown): RedisConnection {
  if (isNodeRedisClient(client)) return nodeRedisClient(client);
  if (isIoRedisClient(client)) {
    throw new InvalidOptionError('Wrap an ioredis client with ioredisClient(redis) from busline/redis');
  }
  const port = client as Partial<RedisConnection> | null;
  if (
    typeof port === 'object' &&
    port !== null &&
    typeof port.send === 'function' &&
    typeof port.duplicate === 'function' &&
    typeof port.destroy === 'function'
  ) {
    return port as RedisConnection;
  }
  throw new InvalidOptionError(
    `Expected \`client\` to be a connected node-redis client or a RedisConnection, got ${describe(client)}`,
  );
}
