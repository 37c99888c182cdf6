// A process that closes its Redis client while its bus is still open (run by
// redis-client-misuse.test.ts): it must exit on its own.
// Usage: <node-redis|ioredis> <quit|close|store-first> <prefix>; store-first closes the store, then quits.
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { EventBus } from '../../../src/index.js';
import { ioredisClient, RedisEventStore } from '../../../src/redis/index.js';

const [kind, how, prefix] = process.argv.slice(2) as [string, string, string];
const url = 'redis://127.0.0.1:6379';

async function openStore(): Promise<{ store: RedisEventStore; closeClient: () => Promise<unknown> }> {
  if (kind === 'ioredis') {
    const redis = new Redis(url);
    redis.on('error', () => {});
    return {
      store: new RedisEventStore({ client: ioredisClient(redis), prefix }),
      closeClient: () => redis.quit(),
    };
  }
  const redis = createClient({ url });
  redis.on('error', () => {});
  await redis.connect();
  return {
    store: new RedisEventStore({ client: redis, prefix }),
    closeClient: () => (how === 'close' ? redis.close() : redis.quit()),
  };
}

const { store, closeClient } = await openStore();
// The default onError: what it prints is part of what the test checks.
const bus = new EventBus({ store });
await bus.ready();
const first = bus.subscribe('job.*');
bus.on('job.*', () => {});
await bus.publish({ type: 'job.created', data: 1 });
for await (const _ of first) break; // the feed is up and delivering
bus.subscribe('job.*'); // left open, as a server keeps one per connected client
if (how === 'store-first') await store.close();
await closeClient();
process.stdout.write('client closed\n');
// Neither the bus nor the store is closed: nothing of busline may keep the process alive.
