/**
 * `npx tsx examples/job-workers/enqueue.ts 10` publishes that many render jobs; job 3 is a
 * poison job that always fails (it ends in the dead letters).
 */
import { EventBus } from 'busline';
import { RedisEventStore } from 'busline/redis';
import { createClient } from 'redis';

const count = Number(process.argv[2] ?? 10);
const prefix = process.env.BUSLINE_PREFIX ?? 'busline-jobs';
const client = await createClient({ url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' }).connect();
const store = new RedisEventStore({ client, prefix });
const bus = new EventBus({ store });

const jobs = Array.from({ length: count }, (_, i) => ({
  type: 'job.render',
  stream: `job-${i + 1}`,
  data: i + 1 === 3 ? { n: i + 1, poison: true } : { n: i + 1 },
}));
const results = await bus.publishBatch(jobs);
console.log(`enqueued ${results.filter((r) => r.status === 'delivered').length} jobs`);
await bus.close();
await store.close(); // the bus closes only a store it made
await client.quit();
