/**
 * A worker process: `npx tsx examples/job-workers/worker.ts w1`. Every worker joins the
 * consumer group `renderers` on the shared Redis store; each job goes to one of them. A job
 * whose handler throws is retried with backoff, then dead-lettered. Ctrl-C closes it
 * gracefully: running jobs finish, unfinished ones go back to the group.
 */
import { EventBus } from 'busline';
import { RedisEventStore } from 'busline/redis';
import { createClient } from 'redis';

type Jobs = { 'job.render': { n: number; poison?: boolean } };

const name = process.argv[2] ?? `worker-${process.pid}`;
const prefix = process.env.BUSLINE_PREFIX ?? 'busline-jobs';
const client = await createClient({ url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' }).connect();
const store = new RedisEventStore({ client, prefix });
const bus = new EventBus<Jobs>({
  store,
  // A failed attempt is reported here; the group retries it by itself.
  onError: (error, context) =>
    console.log(`[${name}] attempt failed for job ${JSON.stringify(context.event?.data)}: ${String(error)}`),
});

const worker = await bus.consume(
  'job.*',
  async (job) => {
    if (job.data.poison) throw new Error(`cannot render job ${job.data.n}`);
    await new Promise((resolve) => setTimeout(resolve, 20)); // the work
    console.log(`[${name}] done job ${job.data.n}`);
  },
  { group: 'renderers', concurrency: 2, maxDeliveries: 3, retryDelayMs: 100 },
);
console.log(`[${name}] ready`);

process.on('SIGINT', async () => {
  await worker.close({ timeoutMs: 5000 });
  await bus.close();
  await store.close(); // the bus closes only a store it made
  await client.quit();
  console.log(`[${name}] closed after ${worker.stats().acked} jobs`);
});
