// Scenario (issue #18 item 7): SSE fan-out over node:http. A server process (a default bus behind
// createSSEHandler) and a clients process holding CONNECTIONS connections; the server publishes
// at rising rates, and a rate counts when every connection received every event, in order.
// Reports the highest frames/s (events/s × connections) delivered complete, and the server's RSS
// per idle connection. Both processes share this machine's two cores, as a real test box would.

import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { formatCount as count, formatBytes, formatRate, target } from '../report.mjs';

const CONNECTIONS = Number(process.env.SSE_CONNECTIONS ?? 1000);
/** Events per second, tried in turn until one is not delivered complete. */
const RATES = [100, 200, 400, 600, 800, 1000, 1500, 2000, 3000];
const SECONDS = 3;
/** How long after the last publish every connection may take to have everything: keeping up, not catching up later. */
const CATCH_UP_MS = 1000;

const child = (name, args = []) =>
  fork(fileURLToPath(new URL(`../${name}`, import.meta.url)), args, {
    execArgv: ['--expose-gc'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });

/** Sends `message` and resolves with the child's next message. */
function ask(proc, message) {
  return new Promise((resolve, reject) => {
    const onExit = (code) =>
      reject(new Error(`child exited (${code}) while asked ${JSON.stringify(message)}`));
    proc.once('exit', onExit);
    proc.once('message', (reply) => {
      proc.off('exit', onExit);
      resolve(reply);
    });
    proc.send(message);
  });
}

const readyOf = (proc) => new Promise((resolve) => proc.once('message', resolve));

export async function run() {
  const server = child('sse-fanout-server.mjs');
  const clients = child('sse-fanout-clients.mjs');
  await Promise.all([readyOf(server), readyOf(clients)]);
  const runs = [];
  let idle;
  try {
    const { port } = await ask(server, { listen: true });
    const before = (await ask(server, { rss: true })).rss;
    await ask(clients, { open: { port, count: CONNECTIONS } });
    await new Promise((resolve) => setTimeout(resolve, 500));
    const after = (await ask(server, { rss: true })).rss;
    idle = { before, after, perConnection: (after - before) / CONNECTIONS };
    let upTo = 0;
    for (const rate of RATES) {
      const started = performance.now();
      const { published, rss } = await ask(server, { publish: { rate, seconds: SECONDS } });
      upTo += published;
      const result = await ask(clients, { expect: { upTo, timeoutMs: CATCH_UP_MS } });
      const ms = performance.now() - started;
      runs.push({ rate, published, rss, ms, ...result });
      if (!result.complete) break;
    }
  } finally {
    server.send({ stop: true });
    clients.send({ stop: true });
  }
  // The publisher shares the event loop with the connections: past some rate it cannot publish
  // as fast as asked, so what counts is the rate delivered, first publish to last frame.
  const deliveredRate = (r) => (r.published * CONNECTIONS) / (r.ms / 1000);
  const bestFrames = Math.max(0, ...runs.filter((r) => r.complete).map(deliveredRate));
  const table = [
    '| events/s | frames/s asked (× connections) | all complete, in order | frames/s delivered (first publish → last frame) | connections behind | server RSS after |',
    '| ---: | ---: | --- | ---: | ---: | ---: |',
    ...runs.map(
      (r) =>
        `| ${count(r.rate)} | ${formatRate(r.rate * CONNECTIONS)} | ${r.complete ? 'yes' : `no${r.why ? ` (${r.why})` : ''}`} | ${r.complete ? formatRate(deliveredRate(r)) : '—'} | ${count(r.behind)} | ${formatBytes(r.rss)} |`,
    ),
  ].join('\n');
  return {
    title: 'SSE fan-out over node:http',
    summary: `${count(CONNECTIONS)} connections in a second process; the server publishes for ${SECONDS} s at each rate in turn.`,
    description: [
      'A server process runs `new EventBus()` (memory store) behind `createSSEHandler(bus, { pattern: "job.*" })` on',
      `node:http; a clients process opens ${count(CONNECTIONS)} connections to it (node:http, no keep-alive agent) and, per`,
      "connection, checks that the events' `data.n` values arrive one after another, none missing or repeated. At each",
      `rate the server publishes for ${SECONDS} s (the events due on each 10 ms tick as one publishBatch); the rate counts`,
      `when every connection has every event within ${CATCH_UP_MS / 1000} s of the last publish (it kept up). The two processes share the`,
      "machine's two cores. RSS per idle connection: the server's RSS after opening the connections (and a GC), minus before, ÷ connections.",
    ].join(' '),
    tables: [],
    extra: [
      table,
      `Server RSS ${formatBytes(idle.before)} before the connections, ${formatBytes(idle.after)} with ${count(CONNECTIONS)} idle ones: ${formatBytes(idle.perConnection)} per connection.`,
    ],
    targets: [
      target(
        `frames/s at which ${count(CONNECTIONS)} connections still receive everything ≥ 500,000`,
        bestFrames,
        '>=',
        500_000,
        runs.length === 0
          ? 'no run finished'
          : `the first incomplete rate: ${count(runs.at(-1).rate)} events/s (${runs.at(-1).behind} connections behind).`,
        ' frames/s',
      ),
      target(
        'server RSS per idle SSE connection ≤ 50 KB',
        idle.perConnection / 1000,
        '<=',
        50,
        `${formatBytes(idle.perConnection)} per connection (the socket, the response, the subscription and its buffer).`,
        ' KB',
      ),
    ],
  };
}
