// What one appended event costs inside Redis: RedisEventStore.append (the append Lua script)
// against raw XADD of the same payloads, by Redis's own accounting: CONFIG RESETSTAT, the appends,
// then INFO commandstats (usec of EVALSHA, resp. XADD, divided by events). Also this process's CPU
// per event (validation, JSON, arguments, node-redis encoding, reply parsing).
//
//   npm run build && node bench/redis-append-cost.mjs [dist dir …]
//
// With several dist directories (e.g. `dist` and the build of an older commit), they take turns
// round by round, so a before/after comparison sees the same machine load. The median of the
// rounds is printed (the spread in brackets). It starts a redis-server of its own on a free port
// (no persistence), so that nothing else shows up in the counters; REDIS_URL=redis://… uses
// that server instead (its keys are deleted at the end). ROUNDS=n changes the number of rounds.

import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createClient } from 'redis';

const ROUNDS = Number(process.env.ROUNDS ?? 5);
const STREAMS = 10;
/** Appends in flight at once, so that Redis is not idle while this process builds the next one. */
const IN_FLIGHT = 4;

/** Store options, and how much to append before measuring so that the bounds are in force. */
const CASES = [
  { name: 'fresh store', options: {}, warmup: 0, events: { 1: 2_000, 1000: 8_000 } },
  { name: 'streams full: per-stream trim', options: {}, warmup: 11_000, events: { 1: 2_000, 1000: 16_000 } },
  {
    name: 'log full too (maxEvents 20,000)',
    options: { maxEvents: 20_000 },
    warmup: 21_000,
    events: { 1000: 16_000 },
  },
];

const dists = process.argv.length > 2 ? process.argv.slice(2) : ['dist'];
const builds = await Promise.all(
  dists.map(async (dir) => {
    const url = (file) => pathToFileURL(resolve(dir, file)).href;
    const [{ RedisEventStore }, { createEventId }] = await Promise.all([
      import(url('redis.js')),
      import(url('index.js')),
    ]);
    return { dir, RedisEventStore, createEventId };
  }),
);

const payload = (i) => ({
  type: i % 2 ? 'bench.created' : 'bench.updated',
  stream: `s-${i % STREAMS}`,
  data: { n: i, name: 'render', attempts: 1 },
});

async function commandStats(client) {
  const info = await client.info('commandstats');
  const stats = {};
  for (const m of info.matchAll(/^cmdstat_(\w+):calls=(\d+),usec=(\d+)/gm)) {
    stats[m[1]] = { calls: Number(m[2]), usec: Number(m[3]) };
  }
  return stats;
}

/** Runs `batches` calls of `send(i)`, IN_FLIGHT at a time: Redis's usec per command, this process's CPU. */
async function measure(client, batches, send) {
  await client.configResetStat();
  const cpu0 = process.cpuUsage();
  let next = 0;
  const lane = async () => {
    while (next < batches) await send(next++);
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
  const cpu = process.cpuUsage(cpu0);
  return { stats: await commandStats(client), clientUs: cpu.user + cpu.system };
}

async function appendCost(build, client, prefix, c, batch) {
  const { RedisEventStore, createEventId } = build;
  const store = new RedisEventStore({ client, prefix, ...c.options });
  const events = (from, count) => {
    const now = Date.now();
    return Array.from({ length: count }, (_, i) => ({
      ...payload(from + i),
      id: createEventId(now),
      time: now,
    }));
  };
  for (let n = 0; n < c.warmup; n += 1000) await store.append(events(n, 1000));
  const total = c.events[batch];
  const { stats, clientUs } = await measure(client, total / batch, (i) =>
    store.append(events(c.warmup + i * batch, batch)),
  );
  await store.close();
  return { redis: stats.evalsha.usec / total, client: clientUs / total };
}

async function rawCost(client, key, batch) {
  const total = batch === 1 ? 2_000 : 16_000;
  const payloads = Array.from({ length: batch }, (_, i) => JSON.stringify(payload(i)));
  const { stats, clientUs } = await measure(client, total / batch, () =>
    Promise.all(payloads.map((e) => client.xAdd(key, '*', { e }))),
  );
  return { redis: stats.xadd.usec / total, client: clientUs / total };
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function ownRedis() {
  const port = await freePort();
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
  const child = spawn('redis-server', [...args, '--logfile', ''], { stdio: 'ignore' });
  const url = `redis://127.0.0.1:${port}`;
  for (let attempt = 0; ; attempt++) {
    try {
      const client = await createClient({ url, socket: { reconnectStrategy: false } }).connect();
      return { client, stop: () => child.kill('SIGKILL') };
    } catch (error) {
      if (attempt > 100) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

const shared = process.env.REDIS_URL;
const server = shared
  ? { client: await createClient({ url: shared }).connect(), stop() {} }
  : await ownRedis();
const { client } = server;
const base = `append-cost-${process.pid}`;
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const spread = (values) => `${Math.min(...values).toFixed(2)}–${Math.max(...values).toFixed(2)}`;
try {
  const version = /redis_version:(\S+)/.exec(await client.info('server'))?.[1];
  console.log(
    `Redis ${version}; ${STREAMS} streams; ${IN_FLIGHT} calls in flight; median of ${ROUNDS} rounds (range)\n`,
  );
  /** label → { redis: number[], client: number[] } */
  const results = new Map();
  const record = (label, r) => {
    const entry = results.get(label) ?? { redis: [], client: [] };
    entry.redis.push(r.redis);
    entry.client.push(r.client);
    results.set(label, entry);
  };
  let k = 0;
  for (let round = 0; round < ROUNDS; round++) {
    for (const batch of [1, 1000]) {
      record(`raw XADD|${batch}|`, await rawCost(client, `{${base}}:raw-${k++}`, batch));
      for (const c of CASES) {
        if (c.events[batch] === undefined) continue;
        for (const build of builds) {
          const label = `${c.name}|${batch}|${build.dir}`;
          record(label, await appendCost(build, client, `${base}-${k++}`, c, batch));
        }
      }
    }
    if (!shared) await client.flushAll();
  }
  console.log(
    `${'case'.padEnd(34)} ${'batch'.padStart(5)}  ${'build'.padEnd(14)} ${'Redis µs/event'.padEnd(22)} ${'× raw'.padStart(6)}  client CPU µs/event`,
  );
  for (const [label, r] of results) {
    const [name, batch, dir] = label.split('|');
    const raw = median(results.get(`raw XADD|${batch}|`).redis);
    const times = dir ? (median(r.redis) / raw).toFixed(1) : '';
    console.log(
      `${name.padEnd(34)} ${batch.padStart(5)}  ${dir.padEnd(14)} ${`${median(r.redis).toFixed(2)} (${spread(r.redis)})`.padEnd(22)} ${times.padStart(6)}  ${median(r.client).toFixed(2)}`,
    );
  }
} finally {
  if (shared) {
    for await (const keys of client.scanIterator({ MATCH: `{${base}*`, COUNT: 1000 })) {
      if (keys.length) await client.del(keys);
    }
  }
  await client.close();
  server.stop();
}
