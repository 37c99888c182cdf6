// Scenario (issue "Consumer groups", item 5): group throughput on Redis. A prefix is filled with
// EVENTS events; then a new group (from 'start') is consumed by 1 or 3 consumer processes with a
// no-op handler, and the clock runs until Redis says the group has read every event and holds
// nothing pending (XINFO GROUPS: lag 0, pending 0). Rate = events / that time.

import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { createClient } from 'redis';
import { ask, spawnChild } from '../child-process.mjs';
import { commandStats, serverCpuUs } from '../redis-commandstats.mjs';
import { deleteKeys } from '../redis-keys.mjs';
import { formatCount as count, formatNs, rateRow, target } from '../report.mjs';

const URL_ = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const QUICK = process.env.BENCH_QUICK === '1';
const EVENTS = QUICK ? 5_000 : 20_000;
const RUNS = QUICK ? 1 : 3;
/** The sustained run: one group drained by three consumers at concurrency 32, GC included. */
const SUSTAINED_EVENTS = QUICK ? 20_000 : 200_000;
const CASES = [
  { consumers: 1, concurrency: 1 },
  { consumers: 1, concurrency: 32 },
  { consumers: 3, concurrency: 1 },
  { consumers: 3, concurrency: 32 },
];

export async function run({ busline }) {
  const { createEventId } = busline;
  const { RedisEventStore } = await import('../../dist/redis.js');
  const client = await createClient({ url: URL_ })
    .on('error', (error) => console.error('redis', error))
    .connect();
  const prefix = `bench-groups-${process.pid}-${Date.now().toString(36)}`;
  const log = `{${prefix}}:log`;
  const children = [];
  try {
    await fill(RedisEventStore, createEventId, client, prefix, EVENTS);
    const childPath = fileURLToPath(new URL('../redis-group-child.mjs', import.meta.url));
    for (let i = 0; i < 3; i++) children.push(await spawnChild(childPath, [prefix, URL_]));

    const rows = [];
    const costs = [];
    let groupSeq = 0;
    for (const c of CASES) {
      const rates = [];
      let usec = 0;
      let calls = 0;
      /** CPU of the consumer processes, from joining until the group drained (µs, all threads). */
      let consumerUs = 0;
      /** Redis's whole CPU over the same time (INFO cpu: scripts, commands, network). */
      let serverUs = 0;
      for (let r = 0; r < RUNS; r++) {
        const group = `g${++groupSeq}`;
        const before = await evalsha(client);
        const server0 = await serverCpuUs(client);
        const t0 = performance.now();
        await Promise.all(
          children
            .slice(0, c.consumers)
            .map((child) => ask(child, { consume: group, concurrency: c.concurrency }, 'joined')),
        );
        await drained(client, log, group);
        const seconds = (performance.now() - t0) / 1000;
        const after = await evalsha(client);
        serverUs += (await serverCpuUs(client)) - server0;
        usec += after.usec - before.usec;
        calls += after.calls - before.calls;
        rates.push(EVENTS / seconds);
        const closed = await Promise.all(
          children.slice(0, c.consumers).map((child) => ask(child, { close: true }, 'closed')),
        );
        consumerUs += closed.reduce((sum, m) => sum + m.cpuUs, 0);
      }
      costs.push({
        ...c,
        usPerEvent: usec / (RUNS * EVENTS),
        callsPerEvent: calls / (RUNS * EVENTS),
        consumerUsPerEvent: consumerUs / (RUNS * EVENTS),
        serverUsPerEvent: serverUs / (RUNS * EVENTS),
      });
      rows.push(
        rateRow(
          `${c.consumers} consumer process${c.consumers > 1 ? 'es' : ''}, concurrency ${c.concurrency}`,
          rates,
        ),
      );
    }
    // Sustained: the log grown to ten times the length, drained once by the same (warm) three
    // consumer processes at concurrency 32, as long-running consumers would.
    await fill(RedisEventStore, createEventId, client, prefix, SUSTAINED_EVENTS - EVENTS);
    const t0 = performance.now();
    await Promise.all(
      children.map((child) => ask(child, { consume: 'sustained', concurrency: 32 }, 'joined')),
    );
    await drained(client, log, 'sustained');
    const sustained = SUSTAINED_EVENTS / ((performance.now() - t0) / 1000);
    await Promise.all(children.map((child) => ask(child, { close: true }, 'closed')));
    const best = rows.at(-1).best;
    return {
      title: 'Redis consumer groups: throughput',
      summary: `${count(EVENTS)} events in the log; a new group from 'start'; no-op handler; best of ${RUNS}; sustained over ${count(SUSTAINED_EVENTS)}.`,
      description: [
        `A RedisEventStore prefix holds ${count(EVENTS)} \`bench.job\` events. Each run creates a new group and starts`,
        "`bus.consume('bench.*', () => {}, { group, concurrency, from: 'start' })` in 1 or 3 child processes (each its own",
        'bus and connection); the time runs from the `consume()` calls until Redis reports the group drained',
        '(`XINFO GROUPS`: lag 0 and no pending entries). Every event costs a share of a claim script call: a claim hands',
        'out up to `concurrency` events and carries the acks of those the consumer finished since its last claim (a',
        'settle call of its own goes out only when no claim follows within a turn of the event loop). The target applies',
        `to the sustained run: the log grown to ${count(SUSTAINED_EVENTS)} events and drained once by the same consumer processes.`,
      ].join(' '),
      tables: [{ rows, unit: 'events/s' }],
      extra: [
        `Redis CPU in the group scripts (EVALSHA; in brackets Redis's whole CPU by INFO cpu, network included), script calls, and the consumer processes' own CPU (all of them, from joining until drained), per event: ${costs
          .map(
            (c) =>
              `${c.consumers}×${c.concurrency}: ${formatNs(c.usPerEvent * 1000)} (Redis in all ${formatNs(c.serverUsPerEvent * 1000)}), ${c.callsPerEvent.toFixed(2)} calls, consumers ${formatNs(c.consumerUsPerEvent * 1000)}`,
          )
          .join(
            '; ',
          )}. With concurrency 1 a consumer waits a round trip per event (its ack rides along with the next claim); concurrency lets one claim hand out many and acks go in batches.`,
        `Sustained: the log grown to ${count(SUSTAINED_EVENTS)} events and drained once by a new group in the same three consumer processes at concurrency 32 (warm, as long-running consumers are; GC included): ${count(Math.round(sustained))} events/s (best short run above: ${count(Math.round(best))}).`,
      ],
      targets: [
        target(
          `three consumer processes at concurrency 32, sustained over ${count(SUSTAINED_EVENTS)} events, ≥ 100,000 events/s`,
          sustained,
          '>=',
          100_000,
          whereTheTimeGoes(costs.at(-1), sustained),
          ' events/s',
        ),
      ],
    };
  } finally {
    for (const child of children) child.send({ exit: true });
    const deleted = await deleteKeys(client, prefix);
    console.log(`(redis-groups scenario: deleted ${deleted} keys)`);
    await client.close();
  }
}

/** Appends `events` \`bench.job\` events over 10 streams under `prefix`, 1,000 per call. */
async function fill(RedisEventStore, createEventId, client, prefix, events) {
  const store = new RedisEventStore({ client, prefix, maxEvents: events * 2, maxEventsPerStream: events });
  for (let i = 0; i < events; i += 1000) {
    const now = Date.now();
    await store.append(
      Array.from({ length: 1000 }, (_, j) => ({
        id: createEventId(now),
        type: 'bench.job',
        stream: `s-${(i + j) % 10}`,
        time: now,
        data: { n: i + j, name: 'render' },
      })),
    );
  }
  await store.close();
}

/**
 * The MISS's diagnosis: Redis and the consumers share this machine's cores, so the CPU both
 * spend per event bounds the rate (os.availableParallelism cores, nothing else running).
 */
function whereTheTimeGoes(cost, rate) {
  const cores = availableParallelism();
  const perEventUs = cost.serverUsPerEvent + cost.consumerUsPerEvent;
  return (
    `Redis CPU ${formatNs(cost.serverUsPerEvent * 1000)} per event (${formatNs(cost.usPerEvent * 1000)} of it in the group scripts, ` +
    `${cost.callsPerEvent.toFixed(2)} script calls per event), the consumer processes' CPU ${formatNs(cost.consumerUsPerEvent * 1000)} ` +
    `per event: ${formatNs(perEventUs * 1000)} of CPU per event on ` +
    `${cores} cores bounds the rate at about ${count(Math.round((cores * 1e6) / perEventUs))} events/s with nothing else running ` +
    `(measured ${count(Math.round(rate))}).`
  );
}

async function evalsha(client) {
  const stats = (await commandStats(client)).evalsha;
  return { usec: stats?.usec ?? 0, calls: stats?.calls ?? 0 };
}

/** Resolves once the group has read the whole log and acknowledged everything. */
async function drained(client, log, group) {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const groups = await client.sendCommand(['XINFO', 'GROUPS', log]);
    for (const g of groups) {
      let info = g;
      if (Array.isArray(g)) {
        info = {};
        for (let i = 0; i < g.length; i += 2) info[g[i]] = g[i + 1];
      }
      if (info.name === group && Number(info.lag) === 0 && Number(info.pending) === 0) return;
    }
    if (Date.now() > deadline) throw new Error(`group ${group} did not drain`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}
