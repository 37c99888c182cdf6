// Child process of the Redis scenario's latency measurement (bench/scenarios/redis.mjs): a bus on
// the parent's prefix with one `lat.*` handler that records, per received event, now − sentAt
// (performance.timeOrigin + performance.now() in both processes, for sub-ms precision) and the
// Redis-assigned time of the event (the ms part of its cursor). Sends them back over IPC.

import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createClient } from 'redis';
import { EventBus } from '../dist/index.js';
import { RedisEventStore } from '../dist/redis.js';

const [prefix, url] = process.argv.slice(2);
const client = await createClient({ url })
  .on('error', (error) => console.error('redis (child)', error))
  .connect();
const bus = new EventBus({ store: new RedisEventStore({ client, prefix }) });
const latency = [];
const storedAt = [];
const loop = monitorEventLoopDelay({ resolution: 1 });
bus.on('lat.*', (event) => {
  const at = performance.timeOrigin + performance.now();
  latency.push(at - event.data.sentAt);
  const ms = typeof event.cursor === 'string' ? Number(event.cursor.split('-')[1]) : Number.NaN;
  storedAt.push(ms - event.data.sentAt);
});
await bus.ready();
loop.enable();
process.send({ ready: true });

process.on('message', async (message) => {
  if (!message.done) return;
  const deadline = Date.now() + 5000;
  while (latency.length < message.expected && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  loop.disable();
  // Wait for the send callback: disconnecting right after would drop a large message still queued.
  await new Promise((resolve) =>
    process.send({ latency, storedAt, loopP99: loop.percentile(99) / 1e6, loopMax: loop.max / 1e6 }, resolve),
  );
  await bus.close();
  await client.close();
  process.disconnect();
});
