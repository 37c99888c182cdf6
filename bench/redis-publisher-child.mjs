// Child process of the Redis publishers scenario (bench/scenarios/redis-publishers.mjs): one
// publishing process. On {publish: batches} its bus publishes that many publishBatch calls of
// 1,000 events (no ids: the bus makes them) over 10 streams, one after another, and answers
// {published, events, cpuUs} with the CPU it used for them (µs, all threads).

import { createClient } from 'redis';
import { EventBus } from '../dist/index.js';
import { RedisEventStore } from '../dist/redis.js';

const [prefix, url] = process.argv.slice(2);
const client = await createClient({ url })
  .on('error', (error) => console.error('redis (publisher child)', error))
  .connect();
const bus = new EventBus({ store: new RedisEventStore({ client, prefix }) });
await bus.ready();
let delivered = 0;
bus.on('bench.*', () => {
  delivered++;
});
let n = 0;
const inputs = () =>
  Array.from({ length: 1000 }, (_, j) => ({
    type: 'bench.job',
    stream: `s-${j % 10}`,
    data: { n: n++, name: 'render', from: process.pid },
  }));

process.on('message', async (message) => {
  if (message.publish) {
    const cpu0 = process.cpuUsage();
    let events = 0;
    for (let b = 0; b < message.publish; b++) {
      const results = await bus.publishBatch(inputs());
      events += results.length;
    }
    const cpu = process.cpuUsage(cpu0);
    process.send({ published: true, events, cpuUs: cpu.user + cpu.system, delivered });
  } else if (message.exit) {
    await bus.close();
    await client.close();
    process.exit(0);
  }
});
process.send({ ready: true });
