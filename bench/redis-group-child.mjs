// Child process of the consumer-group scenario (bench/scenarios/redis-groups.mjs): one consumer
// process. On {consume: group, concurrency} it joins the group (from 'start') with a no-op
// handler and answers {joined}; on {close} it closes that consumer and answers {closed}.

import { createClient } from 'redis';
import { EventBus } from '../dist/index.js';
import { RedisEventStore } from '../dist/redis.js';

const [prefix, url] = process.argv.slice(2);
const client = await createClient({ url })
  .on('error', (error) => console.error('redis (group child)', error))
  .connect();
const bus = new EventBus({ store: new RedisEventStore({ client, prefix }) });
await bus.ready();
let consumer;
process.on('message', async (message) => {
  if (message.consume) {
    consumer = await bus.consume('bench.*', () => {}, {
      group: message.consume,
      concurrency: message.concurrency,
      from: 'start',
    });
    process.send({ joined: true });
  } else if (message.close) {
    await consumer?.close();
    consumer = undefined;
    process.send({ closed: true });
  } else if (message.exit) {
    await bus.close();
    await client.close();
    process.exit(0);
  }
});
process.send({ ready: true });
