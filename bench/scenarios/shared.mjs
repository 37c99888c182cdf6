// Loops and constants several scenarios share. The loops are plain functions with no free
// variables: the harness recompiles one copy per contender, so sharing the source is safe.

import { formatRatio } from '../report.mjs';

/** Publishes are awaited in batches: this many `publish` calls, then one `await Promise.all`. */
export const BATCH = 1000;

/** `ctx.bus.publish(ctx.event)` BATCH times, then awaits them all; `n` is a multiple of BATCH. */
export const batchedPublish = async (ctx, n) => {
  const { bus, event, ps } = ctx;
  for (let i = 0; i < n; i += ps.length) {
    for (let j = 0; j < ps.length; j++) ps[j] = bus.publish(event);
    await Promise.all(ps);
  }
};

/** A contender timing `createEventId(now)` alone; the clock advances one ms per 1,024 ids, about the rate publish reaches. */
export function eventIdContender(name, createEventId) {
  return {
    name,
    setup: () => ({ createEventId, now: Date.now(), last: '' }),
    loop: (ctx, n) => {
      const { createEventId } = ctx;
      let last = '';
      for (let i = 0; i < n; i++) last = createEventId(ctx.now + (i >>> 10));
      ctx.now += (n >>> 10) + 1;
      ctx.last = last;
    },
  };
}

export const delivered = (ctx) => (ctx.count > 0 ? undefined : 'the handler never ran');

/**
 * Why a busline publish is slower than a peer's emit, from numbers measured in this run: the
 * per-event pieces timed by the exact-type scenario, plus this scenario's match cost.
 */
export function publishDiagnosis(findings, { publishNs, peer, peerNs, matchNs }) {
  const b = findings.breakdown;
  const head = `a busline publish costs ${publishNs.toFixed(0)} ns here against ${peerNs.toFixed(0)} ns for ${peer}`;
  const match =
    matchNs === undefined
      ? ''
      : `; the pattern match itself is only ${matchNs.toFixed(0)} ns of it (cached lookup, timed above)`;
  if (!b) return `${head}${match}.`;
  const pieces = b
    .filter((piece) => piece.part)
    .sort((x, y) => y.ns - x.ns)
    .map((piece) => `${piece.name.split(':')[0]} ${piece.ns.toFixed(0)} ns`);
  return (
    `${head}${match}. The rest is fixed per-event work, timed piece by piece in "One exact-type subscriber": ` +
    `${pieces.join(', ')}` +
    ` (of the size check's ${findings.sizeNs.toFixed(0)} ns, the bound's data walk jsonByteBound timed alone takes ${findings.dataWalkNs.toFixed(0)} ns)` +
    `; together ${findings.piecesSumNs.toFixed(0)} of ${findings.publishNs.toFixed(0)} ns, the remainder is in no single piece.` +
    envelopeFloor(b, peer, peerNs) +
    (findings.publishProfile ? ` CPU profile of a publish loop, self time: ${findings.publishProfile}.` : '')
  );
}

/**
 * The pieces a publish with the full envelope cannot leave out, and what they alone allow: the
 * API's promise, the envelope's id, time and size bound, the event object itself, and handing it
 * to the subscriber with the per-stream count and the result object (the contract's stats and
 * PublishResult).
 */
const FLOOR_PIECES = ['promise', 'id', 'size', 'clock', 'envelope', 'dispatch'];

function envelopeFloor(breakdown, peer, peerNs) {
  const floor = breakdown.filter((piece) => piece.part && FLOOR_PIECES.includes(piece.name.split(':')[0]));
  if (floor.length !== FLOOR_PIECES.length) return '';
  const floorNs = floor.reduce((total, piece) => total + piece.ns, 0);
  const names = floor.map((piece) => `${piece.name.split(':')[0]} ${piece.ns.toFixed(0)}`).join(' + ');
  const left = peerNs - floorNs;
  return (
    ` Floor: what a publish with the full envelope cannot leave out (${names}) is ${floorNs.toFixed(0)} ns, ${formatRatio(peerNs / floorNs)} of ${peer} with everything else free; ` +
    (left > 0
      ? `1× leaves ${left.toFixed(0)} ns for the calls between them, which ${peer} spends on its emit alone.`
      : `1× is out of reach (at most ${formatRatio(peerNs / floorNs)}) unless publish gives one of them up: the promise (a synchronous publish), the id, the size bound or the per-stream count.`)
  );
}

// The default pipeline (store, dedup, limiter scenarios): events over STREAMS streams and four
// types, ids left out so the bus generates a fresh UUIDv7 for every publish.

/** Streams the pipeline scenarios publish to (the memory store keeps 1,000 per stream, 100,000 in all). */
export const STREAMS = 100;
export const PIPELINE_TYPES = ['job.created', 'job.completed', 'order.placed', 'order.shipped'];
/** The one subscriber of a pipeline bus. */
export const PIPELINE_PATTERN = 'job.*';
/** Published before timing: past the memory store's 100,000-event cap, so every timed pass evicts. */
export const PREFILL = 110_000;

/** BATCH inputs without ids: stream i mod STREAMS, types mixed within every stream. */
export const pipelineInputs = Array.from({ length: BATCH }, (_, i) => ({
  type: PIPELINE_TYPES[Math.floor(i / STREAMS) % PIPELINE_TYPES.length],
  stream: `stream-${i % STREAMS}`,
  data: { jobId: i, name: 'render', attempts: 1 },
}));

/**
 * A bus (`new EventBus()` when `options` is undefined) with one `job.*` handler, filled with
 * PREFILL events by publishBatch. Every prefill result's status is checked here, outside any
 * timed loop: all must be `delivered` (a duplicate would mean the ids were not fresh).
 */
export async function pipelineBus(EventBus, options) {
  const bus = options === undefined ? new EventBus() : new EventBus(options);
  const ctx = { bus, inputs: pipelineInputs, k: 0, sent: 0, count: 0, final: undefined };
  bus.on(PIPELINE_PATTERN, () => {
    ctx.count++;
  });
  const statuses = {};
  for (let sent = 0; sent < PREFILL; sent += pipelineInputs.length) {
    for (const r of await bus.publishBatch(pipelineInputs))
      statuses[r.status] = (statuses[r.status] ?? 0) + 1;
  }
  if (statuses.delivered !== PREFILL) {
    throw new Error(`prefill of ${PREFILL} events returned statuses ${JSON.stringify(statuses)}`);
  }
  ctx.sent = PREFILL;
  return ctx;
}

/** `await bus.publishBatch(inputs)` n times (opsPerIter BATCH). */
export const pipelineBatchLoop = async (ctx, n) => {
  const { bus, inputs } = ctx;
  for (let i = 0; i < n; i++) await bus.publishBatch(inputs);
  ctx.sent += n * inputs.length;
};

/** `await bus.publish(input)` n times, each awaited before the next. */
export const pipelineSingleLoop = async (ctx, n) => {
  const { bus, inputs } = ctx;
  let k = ctx.k;
  for (let i = 0; i < n; i++) {
    await bus.publish(inputs[k]);
    if (++k === inputs.length) k = 0;
  }
  ctx.k = k;
  ctx.sent += n;
};

/**
 * After the passes (outside the timed loops): every publish must have been delivered, none
 * refused as a duplicate or over a rate. Keeps the bus's stats in ctx.final for the report.
 */
export function pipelineCheck(ctx) {
  const s = ctx.bus.stats();
  ctx.final = s;
  if (s.duplicates !== 0 || s.rateLimited !== 0) {
    return `${s.duplicates} duplicates and ${s.rateLimited} rate-limited among ${s.published + s.duplicates + s.rateLimited} publishes`;
  }
  if (s.published !== ctx.sent) return `published ${s.published} of ${ctx.sent} events`;
  if (ctx.count === 0) return 'the handler never ran';
  return undefined;
}

/** Keeps the store's numbers for the report, then closes the bus. */
export async function pipelineTeardown(ctx) {
  ctx.storeStats = await ctx.bus.storeStats();
  await ctx.bus.close();
}

/**
 * `count` distinct UUIDv7s from busline's createEventId (the clock advancing one ms per 1,024
 * ids), as flat strings: createEventId returns a concatenation, which V8 keeps as a ConsString
 * until something reads its characters; a JSON round trip flattens them.
 */
export function flatIds(createEventId, count, startMs = Date.now()) {
  const ids = Array.from({ length: count }, (_, i) => createEventId(startMs + (i >>> 10)));
  return JSON.parse(JSON.stringify(ids));
}

/**
 * A replay contender: reads `store` page by page with `query` (limit `page`), following
 * `next` and starting over at the end; checks every page was full and the laps add up.
 * Shared by the memory-store and Redis replay scenarios.
 */
export function pagingContender({ name, store, query, lap, page }) {
  return {
    name,
    setup: () => ({
      store,
      query: { ...query, limit: page },
      lap,
      after: undefined,
      bad: 0,
      pages: 0,
      laps: 0,
    }),
    loop: async (ctx, n) => {
      const { store, query } = ctx;
      let after = ctx.after;
      let bad = 0;
      for (let i = 0; i < n; i++) {
        const result = await store.read(after === undefined ? query : { ...query, after });
        if (result.events.length !== query.limit) bad++;
        after = result.next;
        if (after === undefined) ctx.laps++;
      }
      ctx.after = after;
      ctx.bad += bad;
      ctx.pages += n;
    },
    opsPerIter: page,
    check: (ctx) =>
      ctx.bad > 0
        ? `${ctx.bad} pages were not full`
        : ctx.laps !== Math.floor(ctx.pages / ctx.lap)
          ? `${ctx.laps} ends in ${ctx.pages} pages of ${ctx.lap} per lap`
          : undefined,
  };
}
