// The server process of the SSE fan-out scenario (bench/scenarios/sse-fanout.mjs): a default bus
// (memory store) behind `createSSEHandler` on node:http, as an app would run it. Driven over IPC:
//   { listen } → { port, rss }     { rss } → { rss }
//   { publish: { rate, seconds } } → { published, rss } once every event of the run is published
// Events go out on every 10 ms tick (the ones due by the clock, as one publishBatch), `data.n`
// counting up from 0 across runs, so the clients can check each connection gets all, in order.

import http from 'node:http';
import { EventBus } from '../dist/index.js';
import { createSSEHandler } from '../dist/sse.js';

const TICK_MS = 10;
const bus = new EventBus();
const events = createSSEHandler(bus, { pattern: 'job.*', maxConnections: 100_000 });
const server = http.createServer((req, res) => events(req, res));
server.keepAliveTimeout = 0;
let next = 0;

const rss = () => process.memoryUsage().rss;

async function publishAt(rate, seconds) {
  const total = Math.round(rate * seconds);
  const start = performance.now();
  let sent = 0;
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * rate) + 1);
    if (due > sent) {
      const batch = [];
      for (; sent < due; sent++)
        batch.push({ type: 'job.done', data: { n: next++, name: 'render', attempts: 1 } });
      await bus.publishBatch(batch);
    }
    await new Promise((resolve) => setTimeout(resolve, TICK_MS));
  }
  return total;
}

process.on('message', async (message) => {
  if (message.listen) {
    server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port, rss: rss() }));
  } else if (message.rss) {
    globalThis.gc?.();
    process.send({ rss: rss() });
  } else if (message.publish) {
    const { rate, seconds } = message.publish;
    const published = await publishAt(rate, seconds);
    process.send({ published, rss: rss() });
  } else if (message.stop) {
    server.closeAllConnections();
    server.close();
    await bus.close();
    process.exit(0);
  }
});
process.send({ ready: true });
