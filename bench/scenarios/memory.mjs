// Scenario 6b: a 200,000-event burst into an iterator nobody reads. busline's subscription
// buffer is bounded (default 1024, drop-oldest), so the heap must grow by about 1024 events'
// worth at most; node's events.on() queues everything, shown for contrast. This measures bytes,
// not speed, so it is not interleaved; it runs in a child process with a clean heap, because
// after the other scenarios (and after any multi-MiB buffer is freed) heap readings in the same
// process came out hundreds of KiB off, in either direction.

import { execFile } from 'node:child_process';
import { EventEmitter, on } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import v8 from 'node:v8';
import { formatCount as count, formatBytes, target } from '../report.mjs';

const BURST = 200_000;
/** One extra run five times bigger: a bounded buffer must not grow the heap any further. */
const BIG_BURST = 1_000_000;
const BUFFER = 1024; // busline's default bufferSize, stated in API.md
const SAMPLE = 20_000; // events kept to measure what one buffered event weighs
/** "About bufferSize": the heap delta may exceed it by this share (heap accounting noise). */
const TOLERANCE = 1.25;
/** Repeats of each measurement; the median is reported (heap accounting is noisy at 100 KiB scale). */
const REPEATS = 5;
/** Discarded runs before the measured ones. */
const WARM = 3;

/**
 * Live bytes of the object spaces after full GCs, with pauses so concurrent sweeping finishes
 * (an unswept page still counts as used). Code spaces are left out: JIT code is not events.
 */
async function heapAfterGc() {
  for (let i = 0; i < 4; i++) {
    globalThis.gc();
    await sleep(25);
  }
  let used = 0;
  for (const space of v8.getHeapSpaceStatistics()) {
    if (!space.space_name.includes('code') && !space.space_name.startsWith('read_only'))
      used += space.space_used_size;
  }
  return used;
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[sorted.length >> 1];
}

/** Publishes `count` fresh events (a new data object each, as real events have), awaited per 1,000. */
async function burst(bus, type, count) {
  const ps = new Array(1000);
  for (let i = 0; i < count; i += ps.length) {
    for (let j = 0; j < ps.length; j++) ps[j] = bus.publish({ type, data: { n: i + j, label: 'burst' } });
    await Promise.all(ps);
  }
}

/** Heap growth across `fill()`; whatever holds the events stays referenced by the caller. */
async function growth(fill) {
  const before = await heapAfterGc();
  await fill();
  return (await heapAfterGc()) - before;
}

/** The measurements, run in the child process. */
async function measureAll() {
  const { EventBus } = await import('../../dist/index.js');
  // The burst, on a fresh bus each run. The first WARM runs are discarded: while the publish
  // path is still being compiled and optimized, its metadata (bytecode, feedback) grows the
  // heap by up to ~150 KiB on top of the events.
  const bursts = [];
  for (let r = 0; r < WARM + REPEATS; r++) {
    const bus = new EventBus({ store: null, dedup: false });
    const sub = bus.subscribe('burst'); // defaults: bufferSize 1024, overflow 'drop-oldest'
    await burst(bus, 'other', 1000); // warm this bus
    const bytes = await growth(() => burst(bus, 'burst', BURST));
    const { buffered, dropped } = sub.stats();
    if (r >= WARM) bursts.push({ bytes, buffered, dropped, busDropped: bus.stats().dropped });
    await sub.return();
  }

  // Five times the burst: a bounded buffer grows the heap by the same amount.
  let bigBurst;
  {
    const bus = new EventBus({ store: null, dedup: false });
    const sub = bus.subscribe('burst');
    await burst(bus, 'other', 1000);
    const bytes = await growth(() => burst(bus, 'burst', BIG_BURST));
    const { buffered, dropped } = sub.stats();
    bigBurst = { bytes, buffered, dropped, busDropped: bus.stats().dropped };
    await sub.return();
  }

  // What one buffered busline event weighs: a subscription big enough to keep SAMPLE of them.
  const weights = [];
  for (let r = 0; r < REPEATS; r++) {
    const sizer = new EventBus({ store: null, dedup: false });
    await burst(sizer, 'other', 1000);
    const sizerSub = sizer.subscribe('burst', { bufferSize: SAMPLE });
    weights.push((await growth(() => burst(sizer, 'burst', SAMPLE))) / SAMPLE);
    await sizerSub.return();
  }

  // node:events on(): an unbounded queue of argument arrays.
  const ee = new EventEmitter();
  const ac = new AbortController();
  const iterator = on(ee, 'burst', { signal: ac.signal });
  const nodeBytes = await growth(async () => {
    for (let i = 0; i < BURST; i++) ee.emit('burst', { type: 'burst', data: { n: i, label: 'burst' } });
  });
  ac.abort();
  await iterator.return?.();
  return { bursts, bigBurst, weights, nodeBytes };
}

export async function run() {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--expose-gc', fileURLToPath(import.meta.url)],
    {
      maxBuffer: 1024 * 1024,
    },
  );
  const { bursts, bigBurst, weights, nodeBytes } = JSON.parse(stdout);
  const perEvent = median(weights);
  const held = [...bursts].sort((a, b) => a.bytes - b.bytes)[bursts.length >> 1];
  const heldEvents = held.bytes / perEvent;
  const rows = [
    [
      'busline subscribe() (bufferSize 1024, drop-oldest)',
      held.bytes,
      `${held.buffered} buffered, ${count(held.dropped)} dropped (bus.stats().dropped = ${count(held.busDropped)})`,
    ],
    [
      `busline, same with ${count(BIG_BURST)} events (one run)`,
      bigBurst.bytes,
      `${bigBurst.buffered} buffered, ${count(bigBurst.dropped)} dropped`,
    ],
    ['node events.on() (unbounded)', nodeBytes, `${count(BURST)} queued`],
  ];
  const table = [
    "| iterator | heap growth | ≈ busline events' worth | state after the burst |",
    '| --- | ---: | ---: | --- |',
    ...rows.map(
      ([name, bytes, state]) =>
        `| ${name} | ${formatBytes(bytes)} (${count(Math.round(bytes))} B) | ≈ ${count(Math.round(bytes / perEvent))} | ${state} |`,
    ),
  ].join('\n');
  return {
    title: 'Unread iterator under a 200,000-event burst',
    summary: `${count(BURST)} events published into an iterator that never reads; heap measured after gc() before and after (child process).`,
    description: [
      `An iterator is created and never read; ${count(BURST)} events (each with its own small data object)`,
      'are published into it, awaited every 1,000. The heap (live bytes of the object spaces, JIT code left out)',
      'is read after four `global.gc()` rounds before and after, the iterator still referenced, in a child',
      `process with a clean heap. One buffered busline event weighs ${perEvent.toFixed(0)} B (envelope, id string,`,
      `data, buffer slot), measured by keeping ${count(SAMPLE)} of them in a large buffer; that turns each heap`,
      `growth into "≈ N events' worth". busline figures are medians of ${REPEATS} runs on fresh buses`,
      `(all burst runs: ${bursts.map((b) => formatBytes(b.bytes)).join(', ')}; weights ${weights.map((w) => `${w.toFixed(0)} B`).join(', ')}).`,
      `A ${count(BIG_BURST)}-event burst shows the growth does not depend on the burst size.`,
    ].join(' '),
    tables: [],
    extra: [table],
    targets: [
      target(
        `busline heap growth within about bufferSize (${BUFFER}) events (≤ ${TOLERANCE}× = ${Math.round(BUFFER * TOLERANCE)} events' worth)`,
        heldEvents / BUFFER,
        '<=',
        TOLERANCE,
        `the heap grew by ${formatBytes(held.bytes)}, ≈ ${Math.round(heldEvents)} events of ${perEvent.toFixed(0)} B.`,
      ),
    ],
  };
}

// In the child: measure and hand the numbers back as JSON.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.stdout.write(JSON.stringify(await measureAll()));
}
