// Scenario: in-process consumer groups (the memory store's backend). No target: the issues ask
// for Redis group throughput; this row shows what the embedded default sustains, beside a
// hand-rolled loop that calls the same handler with the same bound on calls in flight but keeps
// no group state (no ack, no retry timer, no delivery count), so the gap is the group's cost.

import { formatCount as count, formatNs, rateRow } from '../report.mjs';

const QUICK = process.env.BENCH_QUICK === '1';
const EVENTS = QUICK ? 20_000 : 100_000;
const RUNS = QUICK ? 2 : 4;

export async function run({ busline }) {
  const { EventBus, MemoryEventStore } = busline;
  const cases = [
    { name: 'bus.consume, concurrency 1', run: (bus) => consume(bus, 1) },
    { name: 'bus.consume, concurrency 32', run: (bus) => consume(bus, 32) },
    { name: 'reference: store.read pages + 32 handler calls in flight, no group state', run: boundedLoop },
  ];
  const rows = [];
  const cpu = [];
  for (const c of cases) {
    const rates = [];
    let cpuUs = 0;
    // The first run warms the code up and is not counted.
    for (let r = 0; r <= RUNS; r++) {
      const store = new MemoryEventStore({ maxEvents: EVENTS, maxEventsPerStream: EVENTS });
      const bus = new EventBus({ store, dedup: false });
      await fill(bus);
      globalThis.gc();
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      await c.run(bus, store);
      const seconds = (performance.now() - t0) / 1000;
      const used = process.cpuUsage(cpu0);
      await bus.close();
      if (r === 0) continue;
      rates.push(EVENTS / seconds);
      cpuUs += used.user + used.system;
    }
    rows.push(rateRow(c.name, rates));
    cpu.push(`${c.name}: ${formatNs((cpuUs * 1000) / (RUNS * EVENTS))}`);
  }
  return {
    title: 'In-process consumer groups: throughput',
    summary: `${count(EVENTS)} events in a MemoryEventStore; a new group from 'start'; no-op handler; best of ${RUNS}.`,
    description: [
      `A bus on \`new MemoryEventStore({ maxEvents: ${count(EVENTS)}, maxEventsPerStream: ${count(EVENTS)} })\` holds`,
      `${count(EVENTS)} \`bench.job\` events over 10 streams. Each run starts`,
      "`bus.consume('bench.*', handler, { group, concurrency, from: 'start' })` with a handler that only counts, and the",
      'time runs until the handler has seen every event. Every delivery is acknowledged, holds an `ackTimeoutMs` timer',
      'and a `context` (delivery count, lazy abort signal). The reference row reads the same events with `store.read`',
      '(pages of 1,000) and keeps up to 32 handler calls in flight without any of that: what the group costs on top.',
      `The first run of each row warms up and is not counted; a full GC before each run.`,
    ].join(' '),
    tables: [{ rows, unit: 'events/s', baseline: rows[1].name, ratioLabel: 'concurrency 32 ÷ this' }],
    extra: [`This process's CPU per event (all threads, GC included): ${cpu.join('; ')}.`],
    targets: [],
  };
}

async function fill(bus) {
  for (let i = 0; i < EVENTS; i += 1000) {
    await bus.publishBatch(
      Array.from({ length: 1000 }, (_, j) => ({
        type: 'bench.job',
        stream: `s-${(i + j) % 10}`,
        data: { n: i + j },
      })),
    );
  }
}

async function consume(bus, concurrency) {
  let seen = 0;
  let done;
  const all = new Promise((resolve) => {
    done = resolve;
  });
  const consumer = await bus.consume(
    'bench.*',
    () => {
      if (++seen === EVENTS) done();
    },
    { group: 'bench', concurrency, from: 'start' },
  );
  await all;
  await consumer.close();
}

/** The same handler calls without a group: pages from the store, at most 32 calls in flight. */
async function boundedLoop(_bus, store) {
  let seen = 0;
  const handler = async () => {
    seen++;
  };
  const inFlight = new Set();
  let after;
  for (;;) {
    const page = await store.read({ after, limit: 1000 });
    for (const event of page.events) {
      if (inFlight.size >= 32) await Promise.race(inFlight);
      const call = handler(event).then(() => inFlight.delete(call));
      inFlight.add(call);
    }
    if (page.next === undefined) break;
    after = page.next;
  }
  await Promise.all(inFlight);
  if (seen !== EVENTS) throw new Error(`the reference loop saw ${seen} of ${EVENTS} events`);
}
