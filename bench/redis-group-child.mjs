// Child process of the consumer-group scenario (bench/scenarios/redis-groups.mjs): one consumer
// process. On {consume: group, concurrency} it joins the group (from 'start') with a no-op
// handler and answers {joined}; on {close} it closes that consumer and answers {closed} with
// the CPU it used since it joined (µs, all threads).

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
/** This process's CPU when the consumer started: the scenario reports CPU per event. */
let cpuAtStart;
process.on('message', async (message) => {
  if (message.consume) {
    cpuAtStart = process.cpuUsage();
    consumer = await bus.consume('bench.*', () => {}, {
      group: message.consume,
      concurrency: message.concurrency,
      from: 'start',
    });
    process.send({ joined: true });
  } else if (message.close) {
    // Measured before closing: leaving the group is not per-event work.
    const cpu = process.cpuUsage(cpuAtStart);
    await consumer?.close();
    consumer = undefined;
    process.send({ closed: true, cpuUs: cpu.user + cpu.system });
  } else if (message.exit) {
    await bus.close();
    await client.close();
    process.exit(0);
  }
});
process.send({ ready: true });
