/**
 * A subscriber process: its own bus on the shared Redis store, listening with wildcards.
 * Run several: `npx tsx examples/multi-process/subscriber.ts orders.*`
 */
import { EventBus } from 'busline';
import { RedisEventStore } from 'busline/redis';
import { createClient } from 'redis';

const pattern = process.argv[2] ?? '**';
const prefix = process.env.BUSLINE_PREFIX ?? 'busline-demo';
const client = await createClient({ url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' }).connect();
const store = new RedisEventStore({ client, prefix });
const bus = new EventBus({ store });

bus.on(pattern, (event) => {
  console.log(`[${process.pid} ${pattern}] ${event.type} ${event.stream} ${JSON.stringify(event.data)}`);
  if (event.type === 'demo.done') void shutdown();
});
await bus.ready(); // from here on, every event any process publishes reaches this bus
console.log(`[${process.pid} ${pattern}] ready`);

async function shutdown(): Promise<void> {
  await bus.close();
  await store.close(); // the bus closes only a store it made
  await client.quit();
}
process.on('SIGINT', () => void shutdown());
