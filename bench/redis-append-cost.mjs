// What one appended event costs inside Redis: RedisEventStore.append (the append Lua script)
// against raw XADD of the same payloads, by Redis's own accounting: CONFIG RESETSTAT, the appends,
// then INFO commandstats (usec of EVALSHA, resp. XADD, divided by events). Also this process's CPU
// per event (validation, JSON, arguments, node-redis encoding, reply parsing).
//
//   npm run build && node bench/redis-append-cost.mjs [dist dir …]
//
// With several dist directories (e.g. `dist` and the build of an older commit), they take turns
// round by round, so a before/after comparison sees the same machine load. Printed: the best
// round (other processes only ever add time) and the median. It starts a redis-server of its own
// on a free port (no persistence), so that nothing else shows up in the counters; REDIS_URL=…
// uses that server instead (its keys are deleted at the end). ROUNDS=n: the number of rounds.
//
// INSTRUCTIONS=1 runs that redis-server under valgrind (callgrind) and counts the instructions
// Redis executes per event instead: slow (one round, fewer events), but the same on a busy machine
// as on an idle one, so it can tell differences of a few percent apart.

import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createClient } from 'redis';
import { commandStats } from './redis-commandstats.mjs';

const INSTRUCTIONS = process.env.INSTRUCTIONS === '1';
const ROUNDS = INSTRUCTIONS ? 1 : Number(process.env.ROUNDS ?? 5);
/** Under valgrind, Redis runs some 50× slower: measure fewer events. */
const SCALE = INSTRUCTIONS ? 0.2 : 1;
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

/**
 * Runs `batches` calls of `send(i)`, IN_FLIGHT at a time. Returns Redis's cost of `command` in all
 * (µs by commandstats, or instructions under valgrind) and this process's CPU (µs).
 */
async function measure(server, command, batches, send) {
  const { client } = server;
  await client.configResetStat();
  server.counting?.(true);
  const cpu0 = process.cpuUsage();
  let next = 0;
  const lane = async () => {
    while (next < batches) await send(next++);
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
  const cpu = process.cpuUsage(cpu0);
  const instructions = server.counting?.(false);
  const stats = await commandStats(client);
  return { redis: instructions ?? stats[command].usec, clientUs: cpu.user + cpu.system };
}

async function appendCost(build, server, prefix, c, batch) {
  const { RedisEventStore, createEventId } = build;
  const store = new RedisEventStore({ client: server.client, prefix, ...c.options });
  const events = (from, count) => {
    const now = Date.now();
    return Array.from({ length: count }, (_, i) => ({
      ...payload(from + i),
      id: createEventId(now),
      time: now,
    }));
  };
  for (let n = 0; n < c.warmup; n += 1000) await store.append(events(n, 1000));
  const total = Math.max(batch, Math.round((c.events[batch] * SCALE) / batch) * batch);
  const { redis, clientUs } = await measure(server, 'evalsha', total / batch, (i) =>
    store.append(events(c.warmup + i * batch, batch)),
  );
  await store.close();
  return { redis: redis / total, client: clientUs / total };
}

async function rawCost(server, key, batch) {
  const total = Math.round((batch === 1 ? 2_000 : 16_000) * SCALE);
  const payloads = Array.from({ length: batch }, (_, i) => JSON.stringify(payload(i)));
  const { redis, clientUs } = await measure(server, 'xadd', total / batch, () =>
    Promise.all(payloads.map((e) => server.client.xAdd(key, '*', { e }))),
  );
  return { redis: redis / total, client: clientUs / total };
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

/** A redis-server of this run's own; under callgrind with `counting(on)` when INSTRUCTIONS=1. */
async function ownRedis() {
  const port = await freePort();
  const redisArgs = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
  const dir = INSTRUCTIONS ? mkdtempSync(join(tmpdir(), 'busline-callgrind-')) : undefined;
  const child = INSTRUCTIONS
    ? spawn(
        'valgrind',
        [
          '--tool=callgrind',
          '--instr-atstart=no',
          `--callgrind-out-file=${dir}/out`,
          'redis-server',
          ...redisArgs,
        ],
        { stdio: 'ignore' },
      )
    : spawn('redis-server', [...redisArgs, '--logfile', ''], { stdio: 'ignore' });
  const url = `redis://127.0.0.1:${port}`;
  let client;
  for (let attempt = 0; client === undefined; attempt++) {
    try {
      client = await createClient({ url, socket: { reconnectStrategy: false } }).connect();
    } catch (error) {
      if (attempt > 200) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  const stop = () => {
    child.kill('SIGKILL');
    if (dir) rmSync(dir, { recursive: true, force: true });
  };
  if (!INSTRUCTIONS) return { client, stop };
  const control = (...args) =>
    execFileSync('callgrind_control', [...args, String(child.pid)], { stdio: ['ignore', 'pipe', 'ignore'] });
  let dumps = 0;
  const counting = (on) => {
    if (on) {
      control('-z');
      control('--instr=on');
      return undefined;
    }
    control('--instr=off');
    control('-d');
    dumps++;
    return Number(/^totals: (\d+)/m.exec(readFileSync(`${dir}/out.${dumps}`, 'utf8'))[1]);
  };
  return { client, stop, counting };
}

const shared = process.env.REDIS_URL;
if (shared && INSTRUCTIONS)
  throw new Error('INSTRUCTIONS=1 needs a redis-server of its own: unset REDIS_URL');
const server = shared
  ? { client: await createClient({ url: shared }).connect(), stop() {} }
  : await ownRedis();
const { client } = server;
const base = `append-cost-${process.pid}`;
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const unit = INSTRUCTIONS ? 'instructions/event' : 'Redis µs/event';
const format = (value) => (INSTRUCTIONS ? Math.round(value).toLocaleString('en-US') : value.toFixed(2));
try {
  const version = /redis_version:(\S+)/.exec(await client.info('server'))?.[1];
  const rounds = INSTRUCTIONS ? 'instructions counted by callgrind' : `best / median of ${ROUNDS} rounds`;
  console.log(`Redis ${version}; ${STREAMS} streams; ${IN_FLIGHT} calls in flight; ${rounds}\n`);
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
      record(`raw XADD|${batch}|`, await rawCost(server, `{${base}}:raw-${k++}`, batch));
      for (const c of CASES) {
        if (c.events[batch] === undefined) continue;
        for (const build of builds) {
          const label = `${c.name}|${batch}|${build.dir}`;
          record(label, await appendCost(build, server, `${base}-${k++}`, c, batch));
        }
      }
    }
    if (!shared) await client.flushAll();
  }
  const header = [
    'case'.padEnd(32),
    'batch'.padStart(5),
    'build'.padEnd(12),
    unit.padStart(22),
    '× raw'.padStart(6),
    'client CPU µs/event'.padStart(20),
  ];
  console.log(header.join('  '));
  for (const [label, r] of results) {
    const [name, batch, dir] = label.split('|');
    const best = Math.min(...r.redis);
    const raw = Math.min(...results.get(`raw XADD|${batch}|`).redis);
    const redis = INSTRUCTIONS ? format(best) : `${format(best)} / ${format(median(r.redis))}`;
    const row = [
      name.padEnd(32),
      batch.padStart(5),
      dir.padEnd(12),
      redis.padStart(22),
      (dir ? (best / raw).toFixed(1) : '').padStart(6),
      median(r.client).toFixed(2).padStart(20),
    ];
    console.log(row.join('  '));
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
