// Scenario 8 (issue "EventStore port, MemoryEventStore…", item 7): the default pipeline,
// `new EventBus()` = MemoryEventStore + dedup, against the same bus with layers taken off, then
// where one default publish spends its time, then replay paging through `store.read`.

import { measure } from '../harness.mjs';
import { formatLines, formatProfile, profileLoop } from '../profile.mjs';
import { formatCount as count, formatNs, formatRate, formatRatio, row, target } from '../report.mjs';
import {
  BATCH,
  flatIds,
  PIPELINE_PATTERN,
  PREFILL,
  pagingContender,
  pipelineBatchLoop,
  pipelineBus,
  pipelineCheck,
  pipelineInputs,
  pipelineSingleLoop,
  pipelineTeardown,
  STREAMS,
} from './shared.mjs';

/** The layers, from the default down to pure mode; `options` undefined means `new EventBus()`. */
const LAYERS = [
  { key: 'default', label: 'default (memory store + dedup)', options: undefined },
  { key: 'store', label: 'memory store, dedup off', options: { dedup: false } },
  { key: 'dedup', label: 'dedup, no store', options: { store: null } },
  { key: 'pure', label: 'pure (store: null, dedup: false)', options: { store: null, dedup: false } },
];
const batchName = (layer) => `${layer.label}: publishBatch(${BATCH})`;
const singleName = (layer) => `${layer.label}: publish, awaited one by one`;

const REPLAY_STREAMS = 5;
const REPLAY_EVENTS = 100_000;
const PAGE = 1000;
const REPLAY_TYPES = ['job.created', 'order.placed', 'job.completed', 'order.shipped'];

export async function run({ busline, internals }) {
  return [await pipeline(busline, internals), await replay(busline)];
}

/** Events per sustained run: long enough that GC and the store's evictions are part of the rate. */
const SUSTAINED_EVENTS = 200_000;

/**
 * Sustained rates of the default pipeline (a fresh bus, SUSTAINED_EVENTS events in one timed run,
 * GC and all), and of JSON.stringify over the same envelopes: this VM's speed swings between days,
 * a ratio to it does not. Each is the median of five runs (three swung by ±50 % between runs:
 * this VM changes speed in phases of 50 ms to seconds, about one run's length).
 */
async function sustainedRates(EventBus, createEventId) {
  const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
  const timed = async (fn) => {
    const t0 = performance.now();
    await fn();
    return (SUSTAINED_EVENTS / (performance.now() - t0)) * 1000;
  };
  const runs = { batch: [], single: [], stringify: [] };
  for (let r = 0; r < 5; r++) {
    const batchBus = await pipelineBus(EventBus);
    runs.batch.push(await timed(() => pipelineBatchLoop(batchBus, SUSTAINED_EVENTS / BATCH)));
    await batchBus.bus.close();
    const singleBus = await pipelineBus(EventBus);
    runs.single.push(await timed(() => pipelineSingleLoop(singleBus, SUSTAINED_EVENTS)));
    await singleBus.bus.close();
    // The yardstick serializes the envelopes only: they are built (ids and all) before timing.
    const now = Date.now();
    const envelopes = pipelineInputs.map((input) => ({
      id: createEventId(now),
      type: input.type,
      stream: input.stream,
      time: now,
      data: input.data,
    }));
    let bytes = 0;
    runs.stringify.push(
      await timed(() => {
        for (let i = 0; i < SUSTAINED_EVENTS; i += BATCH)
          for (const envelope of envelopes) bytes += JSON.stringify(envelope).length;
      }),
    );
    if (bytes === 0) throw new Error('nothing serialized');
  }
  return { batch: median(runs.batch), single: median(runs.single), stringify: median(runs.stringify) };
}

async function pipeline(busline, internals) {
  const { EventBus } = busline;
  const ctxs = {};
  const contenders = [];
  for (const [mode, loop, name] of [
    ['batch', pipelineBatchLoop, batchName],
    ['single', pipelineSingleLoop, singleName],
  ]) {
    for (const layer of LAYERS) {
      contenders.push({
        name: name(layer),
        setup: async () => (ctxs[`${layer.key} ${mode}`] = await pipelineBus(EventBus, layer.options)),
        loop,
        opsPerIter: mode === 'batch' ? BATCH : 1,
        step: mode === 'batch' ? 1 : BATCH,
        check: pipelineCheck,
        teardown: pipelineTeardown,
      });
    }
  }
  const rows = await measure(contenders);
  const held = await sustainedRates(EventBus, busline.createEventId);
  const rate = (layer, mode) => row(rows, mode === 'batch' ? batchName(layer) : singleName(layer));
  const [def, store, dedup, pure] = LAYERS;

  const stages = await measure(stageContenders(EventBus, busline.createEventId, internals));
  const stage = (name) => row(stages, name);
  const whole = stage(STAGE_WHOLE);
  const stamp = stage(STAGE_STAMP);
  const gate = stage(STAGE_GATE);
  const append = stage(STAGE_APPEND);
  const mapChurn = stage(PROBE_MAP);
  const cursor = stage(PROBE_CURSOR);
  const recheck = stage(PROBE_CHECK);
  const copy = stage(PROBE_COPY);
  const singleEntries = await profileLoop(
    { name: 'default publish', setup: () => pipelineBus(EventBus), loop: pipelineSingleLoop },
    { n: BATCH, top: 8, lines: 12 },
  );
  const batchEntries = await profileLoop(
    { name: 'default publishBatch', setup: () => pipelineBus(EventBus), loop: pipelineBatchLoop },
    { n: 4, top: 8, lines: 12 },
  );
  const profile = `${formatProfile(singleEntries)}; hottest lines: ${formatLines(singleEntries.lines.slice(0, 6))}`;
  const batchProfile = `${formatProfile(batchEntries)}; hottest lines: ${formatLines(batchEntries.lines.slice(0, 6))}`;
  /** Share of the profile's samples on the hottest lines that touch the store's id index. */
  const idMapShare = (entries) =>
    entries.lines.filter((l) => /#ids\.(get|add|delete)\(/.test(l.text)).reduce((sum, l) => sum + l.share, 0);
  const recent = stage(PROBE_RECENT);
  const direct = stage(PROBE_AWAIT);
  const wrapped = stage(PROBE_WRAPPED);

  const defaultStats = ctxs['default single'].final;
  const storeStats = ctxs['default single'].storeStats;
  const bloom = defaultStats.dedup;
  const steps = [
    ['stamp (validate, clock, id, envelope, size)', stamp.nsPerOp],
    [
      'gate (Deduplicator.checkAndMark; a bloom positive is confirmed by store.has)',
      gate.nsPerOp - stamp.nsPerOp,
    ],
    ['store (await MemoryEventStore.append([event]))', append.nsPerOp - gate.nsPerOp],
    [
      'the rest of publish (dispatch to the handler, the async publish and #append wrappers)',
      whole.nsPerOp - append.nsPerOp,
    ],
  ];
  const stepLines = steps.map(([what, ns]) => `${what} ${formatNs(Math.max(0, ns))}`).join(', ');
  const appendNs = append.nsPerOp - gate.nsPerOp;
  const known = cursor.nsPerOp + recheck.nsPerOp + copy.nsPerOp;
  const dedupLayer = (mode) => rate(dedup, mode).nsPerOp - rate(pure, mode).nsPerOp;
  const storeless = ctxs['dedup single'].final.dedup;
  const positiveRate = storeless.duplicates / storeless.checked;

  const diagnose = (mode) => {
    const d = rate(def, mode);
    const s = rate(store, mode);
    const p = rate(pure, mode);
    const share = idMapShare(mode === 'batch' ? batchEntries : singleEntries);
    return (
      `the default pipeline costs ${formatNs(d.nsPerOp)} per event here, pure mode ${formatNs(p.nsPerOp)}: ` +
      `the memory store adds ${formatNs(s.nsPerOp - p.nsPerOp)} (store, dedup off: ${formatNs(s.nsPerOp)}) and dedup on top of it ` +
      `${formatNs(d.nsPerOp - s.nsPerOp)}. One default publish, stage by stage (table "Where one default publish spends its time"): ${stepLines}. ` +
      `Of the ${formatNs(appendNs)} the store adds, probes timed alone account for ${formatNs(known)}: re-validating the event in ` +
      `checkAppendInput ${formatNs(recheck.nsPerOp)}, the cursor string ${formatNs(cursor.nsPerOp)}, the stored copy ${formatNs(copy.nsPerOp)}; ` +
      `the rest is allocation and GC of what a store must keep alive (${count(storeStats.events)} events retained: each stored copy ` +
      `and entry survives the young generation and is promoted before it is evicted) and the promise of each async append. ` +
      `Its id index (IdIndex: ascending ids in a sorted array) no longer uses a Map for the bus's own ids; a Map's get + set + delete ` +
      `on 100,000 keys, what it cost before, takes ${formatNs(mapChurn.nsPerOp)} (probe). In the CPU profile of this loop, the lines that call ` +
      `#ids.get, #ids.add and #ids.delete hold ${(100 * share).toFixed(0)} % of the samples, ≈ ${formatNs(share * d.nsPerOp)} per event. Past the store, the bus wraps the append in a second async function (#append): an extra async layer costs ` +
      `${formatNs(wrapped.nsPerOp - direct.nsPerOp)} per await (probes). CPU profile, self time, ` +
      `${mode === 'batch' ? `publishBatch loop: ${batchProfile}` : `publish loop: ${profile}`}.`
    );
  };

  const ratioRows = [
    ['pure ÷ default: store + dedup together', (l) => rate(pure, l).best / rate(def, l).best],
    ['pure ÷ memory store (dedup off): the store alone', (l) => rate(pure, l).best / rate(store, l).best],
    [
      'memory store (dedup off) ÷ default: dedup on top of the store',
      (l) => rate(store, l).best / rate(def, l).best,
    ],
    ['pure ÷ dedup without a store: dedup alone', (l) => rate(pure, l).best / rate(dedup, l).best],
  ];
  const ratioTable = [
    '| cost of a layer (how many times slower) | publishBatch(1,000) | publish, awaited one by one |',
    '| --- | ---: | ---: |',
    ...ratioRows.map(([what, f]) => `| ${what} | ${formatRatio(f('batch'))} | ${formatRatio(f('single'))} |`),
    `| ns per event added by the store (memory store, dedup off − pure) | ${formatNs(rate(store, 'batch').nsPerOp - rate(pure, 'batch').nsPerOp)} | ${formatNs(rate(store, 'single').nsPerOp - rate(pure, 'single').nsPerOp)} |`,
    `| ns per event added by dedup with the store (default − memory store, dedup off) | ${formatNs(rate(def, 'batch').nsPerOp - rate(store, 'batch').nsPerOp)} | ${formatNs(rate(def, 'single').nsPerOp - rate(store, 'single').nsPerOp)} |`,
  ].join('\n');

  return {
    title: 'Store: the default pipeline',
    summary: `new EventBus() (MemoryEventStore + dedup, defaults) against the same bus with layers off; ${STREAMS} streams, generated ids; rates in events/s.`,
    description: [
      '`new EventBus()` — the default pipeline: a `MemoryEventStore` with its defaults (1,000 events per stream,',
      '100,000 in all, evicting) and dedup on with its defaults (5 s window, 10,000 expected ids, 1 %) — against',
      'the same bus with the memory store and dedup off (`{ dedup: false }`), with dedup and no store (`{ store: null }`),',
      'and pure mode (`{ store: null, dedup: false }`). Every bus has one `job.*` handler. The',
      `${BATCH} inputs spread over ${STREAMS} streams (\`stream-0\` … \`stream-${STREAMS - 1}\`) and four types, and carry`,
      '**no id: the bus generates a fresh UUIDv7 for every publish**, so dedup never sees a repeated id. Before timing,',
      `each bus publishes ${count(PREFILL)} events (every result's status checked: all \`delivered\`), so the store is full`,
      'and evicts on every timed publish. Batch rows: `await bus.publishBatch(inputs)` repeated. Single rows: `await',
      "bus.publish(input)`, each awaited before the next. After the passes each bus's `stats()` must show every publish",
      'delivered, no duplicate and none rate-limited (checked).',
    ].join(' '),
    tables: [
      {
        rows,
        baseline: batchName(def),
        ratioLabel: 'this ÷ default publishBatch',
        speedVsBaseline: true,
        unit: 'events/s',
      },
      {
        caption:
          "Where one default publish spends its time: stages of the pipeline run cumulatively with the internals bundled from src/ (each row adds one stage to the one above), and probes of the store's per-event work, timed alone. Rates per event:",
        rows: stages,
        shareOf: STAGE_WHOLE,
      },
    ],
    extra: [
      `Sustained, ${count(SUSTAINED_EVENTS)} events in one run each on a fresh bus (GC included, no best chunk): publishBatch(${BATCH}) ` +
        `${formatRate(held.batch)} events/s, publish awaited one by one ${formatRate(held.single)} events/s; ` +
        `JSON.stringify of the same envelopes (id, type, stream, time, data), the VM-speed yardstick, ${formatRate(held.stringify)} events/s ` +
        `(publishBatch ${formatRatio(held.batch / held.stringify)} of it, publish ${formatRatio(held.single / held.stringify)}).`,
      ratioTable,
      `Stage costs (differences between consecutive rows of the second table): ${stepLines}.`,
      `Dedup during the timed default single-publish run: ${count(bloom.checked)} ids checked, ${count(bloom.duplicates)} bloom positives ` +
        `(${((100 * bloom.duplicates) / bloom.checked).toFixed(2)} %), every one confirmed new by \`store.has\` (bus duplicates: ${defaultStats.duplicates}); ` +
        `${count(bloom.earlyRotations)} early rotations (the defaults expect 10,000 ids per 5 s window; this run publishes far more, ` +
        `so generations rotate on size). The store held ${count(storeStats.events)} events in ${count(storeStats.streams)} streams and had evicted ${count(storeStats.evicted)}.`,
      `Dedup without a store (\`{ store: null }\`) adds ${formatNs(dedupLayer('single'))} per publish over pure mode ` +
        `(with the store, the gate stage: ${formatNs(gate.nsPerOp - stamp.nsPerOp)}): with no \`store.has\`, the gate confirms each bloom positive with ` +
        `RecentIds.has over the last 10,000 ids, a binary search while they arrived in ascending order (the bus's own ids; a scan after an out-of-order one): ` +
        `${formatNs(recent.nsPerOp)} per lookup (probe) × ${(100 * positiveRate).toFixed(2)} % positives ≈ ${formatNs(recent.nsPerOp * positiveRate)} per event on average.`,
    ],
    targets: [
      target(
        `default pipeline publishBatch(${BATCH}), sustained over ${count(SUSTAINED_EVENTS)} events, ≥ 1,000,000 events/s`,
        held.batch,
        '>=',
        1e6,
        `best pass ${formatRate(rate(def, 'batch').best)} events/s; ${diagnose('batch')}`,
        ' events/s',
      ),
      target(
        `default pipeline publish awaited one by one, sustained over ${count(SUSTAINED_EVENTS)} events, ≥ 500,000 events/s`,
        held.single,
        '>=',
        5e5,
        `best pass ${formatRate(rate(def, 'single').best)} events/s; ${diagnose('single')}`,
        ' events/s',
      ),
      target(
        'default pipeline publishBatch, sustained, ≥ 0.4× JSON.stringify of the same envelopes',
        held.batch / held.stringify,
        '>=',
        0.4,
        `JSON.stringify of the envelopes, sustained: ${formatRate(held.stringify)} events/s.`,
      ),
      target(
        'default pipeline publish awaited one by one, sustained, ≥ 0.2× JSON.stringify of the same envelopes',
        held.single / held.stringify,
        '>=',
        0.2,
        `JSON.stringify of the envelopes, sustained: ${formatRate(held.stringify)} events/s.`,
      ),
    ],
  };
}

const STAGE_WHOLE = 'publish, default pipeline (new EventBus()), awaited one by one';
const STAGE_STAMP = 'stage 1: EventStamper.stamp(input)';
const STAGE_GATE = 'stage 2: + PublishGate.admit(event, now) (Deduplicator.checkAndMark)';
const STAGE_APPEND = 'stage 3: + await MemoryEventStore.append([event]) (full, evicting)';
const PROBE_MAP = "probe: Map get + set + delete, 100,000 string keys (the store's id index before IdIndex)";
const PROBE_CURSOR = 'probe: MemoryCursor.format(seq) (the cursor string)';
const PROBE_CHECK = 'probe: checkAppendInput([event]) (the store re-validates)';
const PROBE_COPY = 'probe: the stored copy of the event (7 fields)';
const PROBE_RECENT =
  'probe: RecentIds.has(id), a miss among 10,000 (store: null confirms bloom positives so)';
const PROBE_AWAIT = 'probe: await asyncFn() (an async function returning at once)';
const PROBE_WRAPPED = 'probe: await wrapper() where async wrapper() { return await asyncFn() }';

/**
 * The default publish rebuilt from the bundled internals, one stage more per row, all driven by
 * the same inputs as the pipeline table; plus probes of the store's per-event work.
 */
function stageContenders(EventBus, createEventId, internals) {
  const {
    EventStamper,
    PublishGate,
    Deduplicator,
    MemoryEventStore,
    MemoryCursor,
    SubscriptionIndex,
    Subscriber,
    parsePattern,
    checkAppendInput,
    RecentIds,
  } = internals;
  const stageCtx = (stages) => {
    const index = new SubscriptionIndex();
    index.add(new Subscriber([parsePattern(PIPELINE_PATTERN)], undefined, undefined, () => {}, undefined));
    const stamper = new EventStamper({
      schemas: new Map(),
      maxEventBytes: 65536,
      clock: Date.now,
      isKnownType: (type) => index.lookup(type) !== undefined,
    });
    const store = new MemoryEventStore();
    const gate = new PublishGate({
      dedup: new Deduplicator(),
      limiter: null,
      limitKey: (event) => event.stream,
      store,
      recentIds: 10_000,
      dedupOnBusClock: true,
      limiterOnBusClock: true,
    });
    return { stamper, gate, store, inputs: pipelineInputs, k: 0, stages, refused: 0, last: undefined };
  };
  // One loop for the three stages (recompiled per contender, so each keeps its own feedback).
  const stagesLoop = async (ctx, n) => {
    const { stamper, gate, store, inputs, stages } = ctx;
    let k = ctx.k;
    let refused = 0;
    let last;
    for (let i = 0; i < n; i++) {
      const event = stamper.stamp(inputs[k], undefined);
      if (++k === inputs.length) k = 0;
      last = event;
      if (stages < 2) continue;
      let verdict = gate.admit(event, undefined, stamper.now); // the time stamp read, as the bus passes it
      if (verdict instanceof Promise) verdict = await verdict;
      if (verdict !== 'admit') {
        refused++;
        continue;
      }
      if (stages < 3) continue;
      const [appended] = await store.append([event]);
      event.cursor = appended.cursor;
    }
    ctx.k = k;
    ctx.refused += refused;
    ctx.last = last;
  };
  const stageSpec = (name, stages) => ({
    name,
    async setup() {
      const ctx = stageCtx(stages);
      if (stages === 3) await stagesLoop(ctx, PREFILL); // full store, as in the pipeline table
      return ctx;
    },
    loop: stagesLoop,
    step: BATCH,
    check: (ctx) => (ctx.refused === 0 ? undefined : `${ctx.refused} events refused by the gate`),
  });
  const now = Date.now();
  const stored = {
    id: '0190aaaa-bbbb-7ccc-8ddd-eeeeffff0000',
    type: 'job.created',
    stream: 'stream-7',
    time: now,
    data: pipelineInputs[0].data,
    meta: undefined,
    cursor: '0190aaaa-bbbb-7ccc-8ddd-eeeeffff0000',
  };
  return [
    {
      name: STAGE_WHOLE,
      setup: () => pipelineBus(EventBus),
      loop: pipelineSingleLoop,
      step: BATCH,
      check: pipelineCheck,
      teardown: pipelineTeardown,
    },
    stageSpec(STAGE_STAMP, 1),
    stageSpec(STAGE_GATE, 2),
    stageSpec(STAGE_APPEND, 3),
    {
      name: PROBE_MAP,
      setup() {
        // UUIDv7s as flat strings, hashed once already (as the gate's bloom hash and the first Map
        // access leave them); the Map holds 100,000, each op adds one and drops the oldest.
        const size = 100_000;
        const pool = flatIds(createEventId, 1 << 18);
        const map = new Map();
        const ring = new Array(size);
        for (let i = 0; i < size; i++) {
          map.set(pool[i], i);
          ring[i] = pool[i];
        }
        for (let i = size; i < pool.length; i++) map.has(pool[i]);
        return { map, ring, pool, k: size, r: 0 };
      },
      loop: (ctx, n) => {
        const { map, ring, pool } = ctx;
        const mask = pool.length - 1;
        let { k, r } = ctx;
        for (let i = 0; i < n; i++) {
          const id = pool[k];
          k = (k + 1) & mask;
          if (map.get(id) === undefined) {
            map.set(id, i);
            map.delete(ring[r]);
            ring[r] = id;
            r = r + 1 === ring.length ? 0 : r + 1;
          }
        }
        ctx.k = k;
        ctx.r = r;
      },
      check: (ctx) => (ctx.map.size === 100_000 ? undefined : `the Map holds ${ctx.map.size}`),
    },
    {
      name: PROBE_CURSOR,
      setup: () => ({ cursor: new MemoryCursor(), seq: 1e6, last: '' }),
      loop: (ctx, n) => {
        const { cursor } = ctx;
        let seq = ctx.seq;
        let last = '';
        for (let i = 0; i < n; i++) last = cursor.format(++seq);
        ctx.seq = seq;
        ctx.last = last;
      },
    },
    {
      name: PROBE_CHECK,
      setup: () => ({ checkAppendInput, events: [stored] }),
      loop: (ctx, n) => {
        const { checkAppendInput, events } = ctx;
        for (let i = 0; i < n; i++) checkAppendInput(events);
      },
    },
    {
      name: PROBE_COPY,
      setup: () => ({ event: stored, cursor: 'x', last: undefined }),
      loop: (ctx, n) => {
        const { event, cursor } = ctx;
        for (let i = 0; i < n; i++) {
          ctx.last = {
            id: event.id,
            type: event.type,
            stream: event.stream,
            time: event.time,
            data: event.data,
            meta: event.meta,
            cursor,
          };
        }
      },
    },
    {
      name: PROBE_RECENT,
      setup() {
        const recent = new RecentIds(10_000);
        for (const id of flatIds(createEventId, 10_000)) recent.add(id);
        // Fresh ids from the same milliseconds: they share their first 14 characters with many held ones.
        return { recent, misses: flatIds(createEventId, 1024, Date.now() - 5), k: 0, found: 0 };
      },
      loop: (ctx, n) => {
        const { recent, misses } = ctx;
        let k = ctx.k;
        let found = 0;
        for (let i = 0; i < n; i++) {
          if (recent.has(misses[k])) found++;
          k = (k + 1) & 1023;
        }
        ctx.k = k;
        ctx.found += found;
      },
      check: (ctx) => (ctx.found === 0 ? undefined : `${ctx.found} probes were found`),
    },
    {
      name: PROBE_AWAIT,
      setup: () => ({ fn: async (x) => x, total: 0 }),
      loop: async (ctx, n) => {
        const { fn } = ctx;
        let total = 0;
        for (let i = 0; i < n; i++) total += await fn(1);
        ctx.total = total;
      },
      step: BATCH,
    },
    {
      name: PROBE_WRAPPED,
      setup: () => {
        const fn = async (x) => x;
        return { wrapper: async (x) => await fn(x), total: 0 };
      },
      loop: async (ctx, n) => {
        const { wrapper } = ctx;
        let total = 0;
        for (let i = 0; i < n; i++) total += await wrapper(1);
        ctx.total = total;
      },
      step: BATCH,
    },
  ];
}

/** Replay: paging through a full MemoryEventStore with `read({ limit: 1000, after: next })`. */
async function replay(busline) {
  const { MemoryEventStore, createEventId } = busline;
  const store = new MemoryEventStore({ maxEventsPerStream: REPLAY_EVENTS });
  const now = Date.now();
  for (let i = 0; i < REPLAY_EVENTS; i += PAGE) {
    const events = [];
    for (let j = i; j < i + PAGE; j++) {
      events.push({
        id: createEventId(now),
        type: REPLAY_TYPES[Math.floor(j / REPLAY_STREAMS) % REPLAY_TYPES.length],
        stream: `replay-${j % REPLAY_STREAMS}`,
        time: now,
        data: { n: j, label: 'replay' },
      });
    }
    await store.append(events);
  }
  const perStream = REPLAY_EVENTS / REPLAY_STREAMS;
  const cases = [
    {
      name: 'one stream, whole (read forward, following next)',
      query: { stream: 'replay-2' },
      matches: perStream,
    },
    {
      name: "one stream, types: ['job.*']",
      query: { stream: 'replay-2', types: ['job.*'] },
      matches: perStream / 2,
    },
    { name: 'all streams, whole', query: {}, matches: REPLAY_EVENTS },
    { name: "all streams, types: ['job.*']", query: { types: ['job.*'] }, matches: REPLAY_EVENTS / 2 },
  ];
  // Every case's match count is a multiple of the page, so every page returns exactly PAGE events.
  const rows = await measure(
    cases.map((c) =>
      pagingContender({ name: c.name, store, query: c.query, lap: c.matches / PAGE, page: PAGE }),
    ),
  );
  const stats = await store.stats();
  const scanned = (c) => (c.query.stream === undefined ? REPLAY_EVENTS : perStream) / c.matches;
  return {
    title: 'Store: replay paging with store.read',
    summary: `MemoryEventStore with ${count(stats.events)} events over ${REPLAY_STREAMS} streams; read forward, limit ${count(PAGE)}, following next; rate = events returned per second.`,
    description: [
      `A \`MemoryEventStore({ maxEventsPerStream: ${count(REPLAY_EVENTS)} })\` holding ${count(REPLAY_EVENTS)} events`,
      `(explicit UUIDv7 ids) over ${REPLAY_STREAMS} streams of ${count(perStream)}, types cycling through`,
      `${REPLAY_TYPES.map((t) => `\`${t}\``).join(', ')} (half match \`job.*\`). One iteration reads one page:`,
      `\`await store.read({ stream?, types?, limit: ${PAGE}, after })\` with \`after\` = the previous page's \`next\`, starting`,
      'over when a page has no `next`. Every page returns exactly 1,000 events (checked), so the rate counts events',
      'returned; a filtered read examines twice as many entries as it returns (the "scanned" rate below).',
    ].join(' '),
    tables: [{ rows, unit: 'events/s' }],
    extra: [
      `Entries examined per second (returned × examined per match): ${cases
        .map((c) => `${c.name} ${formatRate(row(rows, c.name).best * scanned(c))}/s`)
        .join('; ')}.`,
    ],
    targets: cases.map((c) =>
      target(
        `replay read, ${c.name} ≥ 2,000,000 events/s`,
        row(rows, c.name).best,
        '>=',
        2e6,
        `a page of ${PAGE} costs ${formatNs(row(rows, c.name).nsPerOp * PAGE)}.`,
        ' events/s',
      ),
    ),
  };
}
