/**
 * `npx tsx examples/job-workers/dead-letters.ts` lists the group's dead letters;
 * with `--redrive` it puts them back into the group (after you fixed the bug).
 */
import { EventBus } from 'busline';
import { RedisEventStore } from 'busline/redis';
import { createClient } from 'redis';

const prefix = process.env.BUSLINE_PREFIX ?? 'busline-jobs';
const client = await createClient({ url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' }).connect();
const store = new RedisEventStore({ client, prefix });
const bus = new EventBus({ store });
const dead = bus.deadLetters('renderers');

for (const letter of await dead.list()) {
  console.log(
    `dead: job ${JSON.stringify(letter.event.data)} after ${letter.deliveries} deliveries: ${letter.lastError.message}`,
  );
}
if (process.argv.includes('--redrive')) console.log(`redriven: ${await dead.redrive()}`);
await bus.close();
await store.close(); // the bus closes only a store it made
await client.quit();
