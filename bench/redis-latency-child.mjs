// Child process of the Redis scenario's latency measurement (bench/scenarios/redis.mjs). Kind
// 'busline': a bus on the parent's prefix with one `lat.*` handler. Kind 'raw': an XREAD BLOCK
// loop on the raw floor's stream (node-redis alone, no busline). Either way it records, per
// received event, now − sentAt (CLOCK_MONOTONIC, which all processes share) and the Redis-assigned
// time of the event (the ms part of its id) against the parent's wall clock, and sends them back
// over IPC.

import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createClient } from 'redis';
import { EventBus } from '../dist/index.js';
import { RedisEventStore } from '../dist/redis.js';

const [prefix, url, kind = 'busline'] = process.argv.slice(2);
const client = await createClient({ url })
  .on('error', (error) => console.error('redis (child)', error))
  .connect();
const latency = [];
const storedAt = [];
const loop = monitorEventLoopDelay({ resolution: 1 });
/** `data` as the parent sent it: `sentAt` on CLOCK_MONOTONIC (one clock for every process), `sentWall` from Date.now(). */
const record = (data, redisMs) => {
  latency.push(Number(process.hrtime.bigint()) / 1e6 - data.sentAt);
  storedAt.push(redisMs - data.sentWall);
};

let finish;
if (kind === 'raw') {
  const blocking = client.duplicate().on('error', () => {});
  await blocking.connect();
  const key = `{${prefix}}:raw`;
  let last = '0-0'; // a fresh key per pass: reading from the start cannot miss the first events
  let stopped = false;
  const reading = (async () => {
    while (!stopped) {
      const reply = await blocking.sendCommand([
        'XREAD',
        'COUNT',
        '1000',
        'BLOCK',
        '100',
        'STREAMS',
        key,
        last,
      ]);
      if (reply === null) continue;
      // RESP3 (node-redis's default here) gives a map of key → entries; RESP2 an array of pairs.
      const entries = Array.isArray(reply) ? reply[0][1] : Object.values(reply)[0];
      for (const [id, fields] of entries) {
        last = id;
        record(JSON.parse(fields[1]).data, Number(id.split('-')[0]));
      }
    }
  })();
  finish = async () => {
    stopped = true;
    await reading;
    blocking.destroy();
  };
} else {
  const bus = new EventBus({ store: new RedisEventStore({ client, prefix }) });
  bus.on('lat.*', (event) => {
    const ms = typeof event.cursor === 'string' ? Number(event.cursor.split('-')[1]) : Number.NaN;
    record(event.data, ms);
  });
  await bus.ready();
  finish = () => bus.close();
}
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
  await finish();
  await client.close();
  process.disconnect();
});
