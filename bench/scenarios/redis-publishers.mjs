// Scenario (issue #18, item 2): three publisher processes on one RedisEventStore prefix, each
// publishing batches of 1,000 as fast as it can. Reported: the events/s of all three together,
// Redis's CPU per event (INFO cpu, its feed reads included: every bus reads all three
// processes' events back) and the publishers' own CPU. On a 2-core machine the three processes
// and Redis share the cores. No target: the issue asks for the report.

import { fileURLToPath } from 'node:url';
import { createClient } from 'redis';
import { ask, spawnChild } from '../child-process.mjs';
import { serverCpuUs } from '../redis-commandstats.mjs';
import { deleteKeys } from '../redis-keys.mjs';
import { formatCount as count, formatNs, rateRow } from '../report.mjs';

const URL_ = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const QUICK = process.env.BENCH_QUICK === '1';
/** Batches of 1,000 per process: warm-up (not measured), then each measured run. */
const WARMUP_BATCHES = QUICK ? 2 : 10;
const BATCHES = QUICK ? 5 : 30;
const RUNS = QUICK ? 1 : 3;
const PUBLISHERS = 3;

export async function run() {
  const client = await createClient({ url: URL_ })
    .on('error', (error) => console.error('redis', error))
    .connect();
  const prefix = `bench-publishers-${process.pid}-${Date.now().toString(36)}`;
  const children = [];
  try {
    const childPath = fileURLToPath(new URL('../redis-publisher-child.mjs', import.meta.url));
    for (let i = 0; i < PUBLISHERS; i++) children.push(await spawnChild(childPath, [prefix, URL_]));
    const publishAll = (batches) =>
      Promise.all(children.map((child) => ask(child, { publish: batches }, 'published')));
    await publishAll(WARMUP_BATCHES);
    const runs = [];
    for (let r = 0; r < RUNS; r++) {
      const server0 = await serverCpuUs(client);
      const t0 = performance.now();
      const answers = await publishAll(BATCHES);
      const seconds = (performance.now() - t0) / 1000;
      const serverUs = (await serverCpuUs(client)) - server0;
      const events = answers.reduce((sum, a) => sum + a.events, 0);
      if (events !== PUBLISHERS * BATCHES * 1000)
        throw new Error(`published ${events} events, expected more`);
      const publishersUs = answers.reduce((sum, a) => sum + a.cpuUs, 0);
      runs.push({ rate: events / seconds, serverUs: serverUs / events, publishersUs: publishersUs / events });
    }
    const best = runs.reduce((a, b) => (b.rate > a.rate ? b : a));
    const sorted = [...runs].sort((a, b) => a.rate - b.rate);
    const median = sorted[Math.floor(sorted.length / 2)];
    const events = PUBLISHERS * BATCHES * 1000;
    return {
      title: 'Redis store: three publisher processes',
      summary: `${PUBLISHERS} processes × ${BATCHES} publishBatch(1000) each, at once; best of ${RUNS}.`,
      description: [
        `${PUBLISHERS} processes, each with its own node-redis client and bus on one RedisEventStore prefix (store defaults:`,
        '1,000 events per stream, 100,000 in the log) and one `bench.*` handler, publish',
        `\`publishBatch\` of 1,000 events (10 streams, no ids) ${BATCHES} times each, all at once: ${count(events)} events`,
        `per run, after ${WARMUP_BATCHES} unmeasured batches each. Every bus reads every process's events back through`,
        "its live feed (a shared store's guarantee: each process's subscribers see all events), so Redis serves three",
        "feeds besides the appends. Rate: all events over the run's wall time. Redis CPU: the server's own",
        "(INFO cpu, user + sys) over the run, per event; the publishers' CPU: the three processes' own, per event.",
        'On this 2-core machine the three processes and Redis share the cores. No target: issue #18 asks for the report.',
      ].join(' '),
      tables: [
        {
          rows: [
            rateRow(
              `${PUBLISHERS} publisher processes at once, all events`,
              runs.map((run) => run.rate),
            ),
          ],
          unit: 'events/s',
        },
      ],
      extra: [
        `Per event, best run: Redis CPU ${formatNs(best.serverUs * 1000)} (${count(Math.round(1e6 / best.serverUs))} events/s per Redis core), ` +
          `the publishers' CPU ${formatNs(best.publishersUs * 1000)}. Median run: ${count(Math.round(median.rate))} events/s, Redis ${formatNs(median.serverUs * 1000)}, publishers ${formatNs(median.publishersUs * 1000)}. Runs: ${runs.map((run) => count(Math.round(run.rate))).join(', ')} events/s. Each event is decoded by all ${PUBLISHERS} buses (their feeds), so the publishers' CPU per event holds ${PUBLISHERS} read-backs.`,
      ],
      targets: [],
    };
  } finally {
    await Promise.all(
      children.map(
        (child) =>
          new Promise((resolve) => {
            child.once('exit', resolve);
            child.send({ exit: true });
          }),
      ),
    );
    const deleted = await deleteKeys(client, prefix);
    console.log(`(redis-publishers scenario: deleted ${deleted} keys)`);
    await client.close();
  }
}
