/**
 * The publisher process: `npx tsx examples/multi-process/publisher.ts 10`
 * publishes that many orders and shipments to the shared Redis store, then `demo.done`.
 */
import { EventBus } from 'busline';
import { RedisEventStore } from 'busline/redis';
import { createClient } from 'redis';

const count = Number(process.argv[2] ?? 10);
const prefix = process.env.BUSLINE_PREFIX ?? 'busline-demo';
const client = await createClient({ url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' }).connect();
const store = new RedisEventStore({ client, prefix });
const bus = new EventBus({ store });
await bus.ready();

for (let n = 1; n <= count; n++) {
  const type = n % 2 ? 'orders.created' : 'shipments.sent';
  const { cursor } = await bus.publish({ type, stream: `customer-${n % 3}`, data: { n } });
  console.log(`published ${type} #${n} at ${cursor}`);
}
await bus.publish({ type: 'demo.done', data: null });
await bus.close();
await store.close(); // the bus closes only a store it made
await client.quit();
