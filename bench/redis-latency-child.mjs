// A process of the Redis scenario's latency measurement (bench/scenarios/redis.mjs). Both sides
// run in processes of their own, like two app processes: the bench runner only coordinates (its
// own heap and its JIT state, after every other scenario, are nobody's app).
//
//   node redis-latency-child.mjs <prefix> <redis url> <kind> <role> [rate] [seconds]
//
// kind 'busline': a bus on <prefix>; kind 'raw': node-redis alone on the stream {<prefix>}:raw.
// role 'subscribe': records, per received event, now − data.sentAt on CLOCK_MONOTONIC (one clock
//   for every process on the machine) and Redis's id time − data.sentWall; reports on 'done'.
// role 'publish': on 'go', sends the events due by the clock on every setTimeout(1) tick as one
//   call (busline: publishBatch; raw: one EVAL of XADDs), not awaited; reports when all resolved.
// Both report their event-loop delay p99.

import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createClient } from 'redis';
import { EventBus } from '../dist/index.js';
import { RedisEventStore } from '../dist/redis.js';

const [prefix, url, kind, role, rate = '10000', seconds = '5'] = process.argv.slice(2);
const STREAMS = 10;
const RAW_KEY = `{${prefix}}:raw`;
/** The raw floor's script: XADD each payload to one stream (one call per tick, like publishBatch). */
const RAW_XADDS =
  "for i = 1, #ARGV do redis.call('XADD', KEYS[1], 'MAXLEN', '~', '100000', '*', 'e', ARGV[i]) end return #ARGV";
const monotonicMs = () => Number(process.hrtime.bigint()) / 1e6;

const client = await createClient({ url })
  .on('error', (error) => console.error(`redis (latency ${role})`, error))
  .connect();
const loop = monitorEventLoopDelay({ resolution: 1 });
const bus = kind === 'busline' ? new EventBus({ store: new RedisEventStore({ client, prefix }) }) : undefined;
const { report, close } = role === 'publish' ? await publisher() : await subscriber();
await bus?.ready();
loop.enable();
process.send({ ready: true });

process.on('message', async (message) => {
  const body = await report(message);
  if (body === undefined) return;
  loop.disable();
  // Wait for the send callback: disconnecting right after would drop a large message still queued.
  await new Promise((resolve) => process.send({ ...body, loopP99: loop.percentile(99) / 1e6 }, resolve));
  await close();
  await bus?.close();
  await client.close();
  process.disconnect();
});

async function subscriber() {
  const latency = [];
  const storedAt = [];
  /** `data` as the publisher sent it: `sentAt` on CLOCK_MONOTONIC, `sentWall` from Date.now(). */
  const record = (data, redisMs) => {
    latency.push(monotonicMs() - data.sentAt);
    storedAt.push(redisMs - data.sentWall);
  };
  let close = async () => {};
  if (bus === undefined) {
    const blocking = client.duplicate().on('error', () => {});
    await blocking.connect();
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
          RAW_KEY,
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
    close = async () => {
      stopped = true;
      await reading;
      blocking.destroy();
      await client.del(RAW_KEY);
    };
  } else {
    bus.on('lat.*', (event) => record(event.data, Number(event.cursor.split('-')[1])));
  }
  return {
    close,
    async report(message) {
      if (!message.done) return undefined;
      const deadline = Date.now() + 5000;
      while (latency.length < message.expected && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      return { latency, storedAt };
    },
  };
}

async function publisher() {
  const total = Number(rate) * Number(seconds);
  const publish =
    bus === undefined
      ? (batch) =>
          client.sendCommand(['EVAL', RAW_XADDS, '1', RAW_KEY, ...batch.map((e) => JSON.stringify(e))])
      : (batch) => bus.publishBatch(batch);
  return {
    close: async () => {},
    async report(message) {
      if (!message.go) return undefined;
      // Counted, not kept: holding every publish promise (and its results) for the whole run would
      // make the heap, and so the GC pauses, grow with the run.
      let unresolved = 0;
      let failed = 0;
      let allResolved;
      const resolvedAll = new Promise((resolve) => (allResolved = resolve));
      const resolveMs = [];
      const batchSizes = [];
      let sent = 0;
      const t0 = performance.now();
      while (sent < total) {
        await new Promise((resolve) => setTimeout(resolve, 1));
        const due = Math.min(total, Math.floor(((performance.now() - t0) * Number(rate)) / 1000)) - sent;
        if (due <= 0) continue;
        const sentAt = monotonicMs();
        const sentWall = Date.now(); // compared with Redis's id time (1 ms resolution)
        const batch = new Array(due);
        for (let i = 0; i < due; i++) {
          const k = sent + i;
          batch[i] = { type: 'lat.tick', stream: `lat-${k % STREAMS}`, data: { k, sentAt, sentWall } };
        }
        sent += due;
        batchSizes.push(due);
        unresolved++;
        publish(batch)
          .then(
            () => resolveMs.push(monotonicMs() - sentAt),
            () => failed++,
          )
          .then(() => {
            if (--unresolved === 0 && sent === total) allResolved();
          });
      }
      // Bounded wait: publishes not resolved 10 s after the last one was sent are counted, not awaited.
      if (unresolved > 0)
        await Promise.race([resolvedAll, new Promise((resolve) => setTimeout(resolve, 10_000))]);
      return { total, resolveMs, batchSizes, unresolved, failed };
    },
  };
}
