// Scenario (issue "RedisEventStore", item 7): the Redis store against a real Redis (REDIS_URL,
// default 127.0.0.1:6379). publishBatch on a bus backed by RedisEventStore vs raw pipelined XADD,
// store.append alone, replay paging with store.read, and cross-process delivery latency (one
// child process subscribed on the same prefix). Every key is under a unique prefix and deleted.

import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createClient } from 'redis';
import { measure } from '../harness.mjs';
import { commandStats, serverCpuUs } from '../redis-commandstats.mjs';
import { deleteKeys } from '../redis-keys.mjs';
import { formatCount as count, formatNs, formatRate, formatRatio, row, target } from '../report.mjs';
import { pagingContender } from './shared.mjs';

const URL_ = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const BATCH = 1000;
const STREAMS = 10;
const REPLAY_EVENTS = 50_000;
const REPLAY_STREAMS = 5;
const PAGE = 1000;
const RAW_MAXLEN = 100_000; // the store's default maxEvents: the raw stream is bounded alike (XADD MAXLEN ~)
const LAT_RATE = 10_000; // events/s
const LAT_SECONDS = 5;
const LAT_PASSES = 5;

const BUS = `bus.publishBatch(${BATCH}) on RedisEventStore (awaited)`;
const APPEND = `store.append(${BATCH} events) alone, no bus`;
const RAW_MULTI = `raw: ${BATCH} XADD in one MULTI pipeline (execAsPipeline)`;
const RAW_EVAL = `raw: one EVAL of ${BATCH} XADD`;
/** Batches in a row for the sustained rates and the CPU profiles (GC and Redis's own upkeep included). */
const SUSTAINED_BATCHES = 60;
/**
 * Batches run before each profile, unmeasured, then a full GC: each profile starts warm and on a
 * clean heap, not paying for the garbage and cold code the one before it left. Without them the
 * first profile of a run read 20–30 % more CPU than the same profile run again right after.
 */
const PROFILE_WARMUP = 10;
/** One EVAL appending every ARGV to KEYS[1], bounded like the store's log. */
const XADD_ALL = `for i = 1, #ARGV do redis.call('XADD', KEYS[1], 'MAXLEN', '~', ${RAW_MAXLEN}, '*', 'e', ARGV[i]) end return #ARGV`;

// The Redis CPU floor, step by step (same run, same events): what an atomic write of both copies
// costs from a script, then with the id index that makes appends idempotent. ARGV: id, stream
// key, packed entry per event; KEYS[1]: the log, KEYS[2]: the id index.
const STEP_TWO_XADD = `for i = 1, #ARGV, 3 do
  local rid = redis.call('XADD', KEYS[1], '*', 'p', ARGV[i + 2])
  redis.call('XADD', ARGV[i + 1], rid, 'p', ARGV[i + 2])
end return 1`;
const STEP_WITH_INDEX = `local ids, index = {}, {}
for i = 1, #ARGV, 3 do ids[#ids + 1] = ARGV[i] end
local known = redis.call('HMGET', KEYS[2], unpack(ids))
for i = 1, #ARGV, 3 do
  local rid = redis.call('XADD', KEYS[1], '*', 'p', ARGV[i + 2])
  redis.call('XADD', ARGV[i + 1], rid, 'p', ARGV[i + 2])
  index[#index + 1] = ARGV[i]
  index[#index + 1] = rid
end
redis.call('HSET', KEYS[2], unpack(index))
return #known`;

const inputs = Array.from({ length: BATCH }, (_, i) => ({
  type: i % 2 ? 'bench.created' : 'bench.updated',
  stream: `s-${i % STREAMS}`,
  data: { n: i, name: 'render', attempts: 1 },
}));

export async function run({ busline }) {
  const { EventBus } = busline;
  const { RedisEventStore } = await import('../../dist/redis.js');
  const client = await createClient({ url: URL_ })
    .on('error', (error) => console.error('redis', error))
    .connect();
  const base = `bench-redis-${process.pid}-${Date.now().toString(36)}`;
  try {
    // Latency first, while Redis holds nothing of this scenario's throughput runs (a 100,000-event
    // log and its index, whose rehashing and trimming are not the latency's to pay).
    const latency = await crossProcess(base);
    const publish = await publishing(EventBus, RedisEventStore, busline, client, base);
    const replay = await replaying(RedisEventStore, busline, client, base);
    return [publish, replay, latency];
  } finally {
    const deleted = await deleteKeys(client, base);
    console.log(`(redis scenario: deleted ${deleted} keys matching {${base}*)`);
    await client.close();
  }
}

/**
 * Runs `fn` `times` times in a row (untimed by the harness; after PROFILE_WARMUP runs and a GC):
 * the sustained rate, this process's CPU and Redis's CPU per event (INFO cpu for the total, INFO
 * commandstats for the split).
 */
async function profile(client, times, fn) {
  for (let i = 0; i < PROFILE_WARMUP; i++) await fn();
  globalThis.gc?.();
  const before = await commandStats(client);
  const server0 = await serverCpuUs(client);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < times; i++) await fn();
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const serverUs = (await serverCpuUs(client)) - server0;
  const after = await commandStats(client);
  const events = times * BATCH;
  const server = {};
  for (const [name, s] of Object.entries(after)) {
    const usec = s.usec - (before[name]?.usec ?? 0);
    if (usec > 0 && name !== 'info') server[name] = usec;
  }
  const perEvent = (us) => formatNs((us * 1000) / events);
  const clientNs = ((cpu.user + cpu.system) * 1000) / events;
  const serverNs = (serverUs * 1000) / events;
  return {
    rate: (events / wall) * 1000,
    clientNs,
    serverNs,
    text:
      `wall ${perEvent(wall * 1000)}/event, this process's CPU ${formatNs(clientNs)}/event, ` +
      `Redis CPU ${formatNs(serverNs)}/event (by command, scripts including what they call: ${Object.entries(
        server,
      )
        .sort((a, b) => b[1] - a[1])
        .map(([n, us]) => `${n} ${perEvent(us)}`)
        .join(', ')})`,
  };
}

async function publishing(EventBus, RedisEventStore, busline, client, base) {
  const { createEventId } = busline;
  const payloads = inputs.map((input) => JSON.stringify(input));
  const contenders = [
    {
      name: BUS,
      async setup() {
        const store = new RedisEventStore({ client, prefix: `${base}-bus` });
        const bus = new EventBus({ store });
        const ctx = { bus, inputs, sent: 0, handled: 0, notDelivered: 0 };
        bus.on('bench.*', () => {
          ctx.handled++;
        });
        await bus.ready();
        return ctx;
      },
      loop: async (ctx, n) => {
        const { bus, inputs } = ctx;
        let bad = 0;
        for (let i = 0; i < n; i++) {
          const results = await bus.publishBatch(inputs);
          for (let j = 0; j < results.length; j++) if (results[j].deliveredTo !== 1) bad++;
        }
        ctx.sent += n * inputs.length;
        ctx.notDelivered += bad;
      },
      check: (ctx) =>
        ctx.notDelivered > 0
          ? `${ctx.notDelivered} publishes not delivered to the local handler`
          : ctx.handled !== ctx.sent
            ? `handled ${ctx.handled} of ${ctx.sent}`
            : undefined,
      teardown: (ctx) => ctx.bus.close(),
    },
    {
      name: APPEND,
      setup: () => ({
        store: new RedisEventStore({ client, prefix: `${base}-append` }),
        inputs,
        createEventId,
        duplicates: 0,
      }),
      loop: async (ctx, n) => {
        const { store, inputs, createEventId } = ctx;
        let duplicates = 0;
        for (let i = 0; i < n; i++) {
          const now = Date.now();
          const events = new Array(inputs.length);
          for (let j = 0; j < inputs.length; j++) {
            const input = inputs[j];
            events[j] = {
              id: createEventId(now),
              type: input.type,
              stream: input.stream,
              time: now,
              data: input.data,
            };
          }
          const appended = await store.append(events);
          for (let j = 0; j < appended.length; j++) if (appended[j].duplicate) duplicates++;
        }
        ctx.duplicates += duplicates;
      },
      check: (ctx) => (ctx.duplicates > 0 ? `${ctx.duplicates} appends were duplicates` : undefined),
      teardown: (ctx) => ctx.store.close(),
    },
    {
      name: RAW_MULTI,
      // The harness compiles each loop on its own: everything it uses comes through ctx.
      setup: () => ({ client, key: `{${base}-raw}:multi`, payloads, multiXAdd }),
      loop: async (ctx, n) => {
        const { client, key, payloads, multiXAdd } = ctx;
        for (let i = 0; i < n; i++) await multiXAdd(client, [key], payloads);
      },
    },
    {
      name: RAW_EVAL,
      setup: () => ({ client, key: `{${base}-raw}:eval`, payloads, script: XADD_ALL }),
      loop: async (ctx, n) => {
        const { client, key, payloads, script } = ctx;
        for (let i = 0; i < n; i++) await client.eval(script, { keys: [key], arguments: payloads });
      },
    },
  ];
  const rows = await measure(contenders.map((c) => ({ ...c, opsPerIter: BATCH })));
  const bus = row(rows, BUS);
  const append = row(rows, APPEND);
  // The baseline is the faster of the two honest raw writes in this run (never Promise.all of
  // single XADDs, which costs the client about as much as busline does).
  const raw = [row(rows, RAW_MULTI), row(rows, RAW_EVAL)].sort((a, b) => b.best - a.best)[0];

  // Sustained, and where the time goes: SUSTAINED_BATCHES batches in a row of each (GC and
  // Redis's own upkeep included), with Redis's CPU (INFO cpu, the server's whole process: the
  // feed's XREADs count) and this process's CPU around them. The floor for Redis's CPU: the same
  // events written as two plain XADDs each (the log and the event's stream), MULTI-pipelined.
  const profStore = new RedisEventStore({ client, prefix: `${base}-prof` });
  const profBus = new EventBus({ store: new RedisEventStore({ client, prefix: `${base}-profbus` }) });
  profBus.on('bench.*', () => {});
  await profBus.ready();
  // The same bus with no local subscriber: it must not decode its own events back (item 3).
  const quietBus = new EventBus({ store: new RedisEventStore({ client, prefix: `${base}-profquiet` }) });
  await quietBus.ready();
  const { createEventId: id } = busline;
  const streamKeys = Array.from({ length: STREAMS }, (_, i) => `{${base}-floor}:s-${i}`);
  const logKey = `{${base}-floor}:log`;
  const rawKey = `{${base}-profraw}:stream`;
  const prof = {
    multi: await profile(client, SUSTAINED_BATCHES, () => multiXAdd(client, [rawKey], payloads)),
    eval: await profile(client, SUSTAINED_BATCHES, () =>
      client.eval(XADD_ALL, { keys: [rawKey], arguments: payloads }),
    ),
    floor: await profile(client, SUSTAINED_BATCHES, () =>
      multiXAdd(client, [logKey, ...streamKeys], payloads, (j) => [logKey, streamKeys[j % STREAMS]]),
    ),
    append: await profile(client, SUSTAINED_BATCHES, () => {
      const now = Date.now();
      // Object literals, as the APPEND contender builds them: on Node 20, objects made by spread
      // plus new keys (`{ ...x, id, time }`) read several times slower, and doubled this profile.
      return profStore.append(
        inputs.map((x) => ({ id: id(now), type: x.type, stream: x.stream, time: now, data: x.data })),
      );
    }),
    publish: await profile(client, SUSTAINED_BATCHES, () => profBus.publishBatch(inputs)),
    publishQuiet: await profile(client, SUSTAINED_BATCHES, () => quietBus.publishBatch(inputs)),
    twoXadd: await profile(client, SUSTAINED_BATCHES, () =>
      client.eval(STEP_TWO_XADD, {
        keys: [`{${base}-step1}:log`],
        arguments: stepArguments(`${base}-step1`, id),
      }),
    ),
    withIndex: await profile(client, SUSTAINED_BATCHES, () =>
      client.eval(STEP_WITH_INDEX, {
        keys: [`{${base}-step2}:log`, `{${base}-step2}:ids`],
        arguments: stepArguments(`${base}-step2`, id),
      }),
    ),
  };
  // Reading back, for the client CPU's split: the bus's feed reads its own events through
  // store.tail; the raw floor reads the raw stream with XREAD (same client, no transforms) and
  // parses each JSON payload, the least a process can do to hand them on.
  prof.readBack = await readBackCpu(profStore, SUSTAINED_BATCHES * BATCH);
  prof.rawRead = await rawReadCpu(client, rawKey, SUSTAINED_BATCHES * BATCH);
  await profBus.close();
  await quietBus.close();
  await profStore.close();
  const sustainedRaw = Math.max(prof.multi.rate, prof.eval.rate);
  const busShare = prof.publish.rate / sustainedRaw;
  const appendShare = prof.append.rate / sustainedRaw;
  const cpuRatio = prof.publish.serverNs / prof.floor.serverNs;
  // What the guarantees cost at least, per awaited call: Redis runs the script while this process
  // waits, so the wall time is at least Redis's CPU for both copies and the id index (the second
  // floor step) plus this process's own CPU.
  const rawNs = 1e9 / Math.max(prof.multi.rate, prof.eval.rate);
  const floorBound = (clientNs) => {
    const ns = prof.withIndex.serverNs + clientNs;
    return (
      `At least ${formatNs(prof.withIndex.serverNs)} of Redis CPU for both copies and the id index (the floor's second step) ` +
      `plus ${formatNs(clientNs)} of this process's CPU, one after the other in an awaited call: ${formatNs(ns)} per event, ` +
      `so at most ${formatRatio(rawNs / ns)} of raw's ${formatNs(rawNs)} without giving up idempotency or the per-stream copy`
    );
  };
  const sustained = (name, p) => `${name} ${formatRate(p.rate)} events/s`;

  return {
    title: 'Redis store: publishBatch and append',
    summary: `Redis at ${URL_}; ${BATCH} events per batch over ${STREAMS} streams; rates in events/s.`,
    description: [
      `A bus \`new EventBus({ store: new RedisEventStore({ client, prefix }) })\` (store defaults: 1,000 events per stream,`,
      `100,000 in the log) with one \`bench.*\` handler; one iteration is \`await bus.publishBatch(inputs)\` of ${count(BATCH)} inputs`,
      `without ids (the bus generates them) over ${STREAMS} streams. The bus treats the store as shared: each publish resolves`,
      "once its event came back through the store's live feed (XREAD BLOCK on the store's own connection); every result",
      `must show \`deliveredTo: 1\` (checked). \`store.append\` alone: the same ${count(BATCH)} events with fresh ids and times`,
      'built in the loop, on a store of its own prefix, no bus. Raw, two ways, and the baseline is the faster of them in this run:',
      `the same payloads as JSON strings (serialized once, before timing) appended to one stream key (MAXLEN ~ ${count(RAW_MAXLEN)})`,
      `either as ${count(BATCH)} XADD queued on \`client.multi()\` and sent with \`execAsPipeline()\`, or as one EVAL of a script`,
      `that runs the ${count(BATCH)} XADD. One node-redis client for all. Sustained rates: ${SUSTAINED_BATCHES} batches in a row of`,
      `each, GC included (after ${PROFILE_WARMUP} unmeasured batches of the same and a full GC, so that no profile pays for the one before it).`,
      "Redis CPU: the server's own (INFO cpu, user + sys) over those batches, per event; its floor is the same",
      'events written as two plain XADDs each (the log and their stream), MULTI-pipelined.',
    ].join(' '),
    tables: [
      {
        rows,
        baseline: raw.name,
        ratioLabel: 'this ÷ raw (the faster)',
        speedVsBaseline: true,
        unit: 'events/s',
      },
    ],
    extra: [
      `Best pass: store.append ${formatRatio(append.best / raw.best)} of raw, bus.publishBatch ${formatRatio(bus.best / raw.best)} ` +
        `of raw (${formatNs(bus.nsPerOp - append.nsPerOp)} per event over store.append: stamping, dedup, waiting for the live feed ` +
        'to bring the events back and delivering them).',
      `Sustained (${SUSTAINED_BATCHES} batches in a row): ${sustained('MULTI pipeline', prof.multi)}, ${sustained('EVAL', prof.eval)}, ` +
        `${sustained('store.append', prof.append)} (${formatRatio(appendShare)} of raw), ` +
        `${sustained('bus.publishBatch', prof.publish)} (${formatRatio(busShare)} of raw).`,
      `The floor step by step (Redis CPU per event, × the floor of two plain XADDs): the two XADDs from one script, as an ` +
        `atomic write of both copies needs, ${formatNs(prof.twoXadd.serverNs)} (${formatRatio(prof.twoXadd.serverNs / prof.floor.serverNs)}); ` +
        `plus the id index that makes appends idempotent (one HMGET, one HSET) ${formatNs(prof.withIndex.serverNs)} ` +
        `(${formatRatio(prof.withIndex.serverNs / prof.floor.serverNs)}); store.append, which adds the per-stream id lists, ` +
        `trims, marks and retention, ${formatNs(prof.append.serverNs)} (${formatRatio(prof.append.serverNs / prof.floor.serverNs)}); ` +
        `bus.publishBatch, which adds the feed reads, ${formatNs(prof.publish.serverNs)} (${formatRatio(cpuRatio)}).`,
      `Profile per event — MULTI: ${prof.multi.text}. EVAL: ${prof.eval.text}. Floor (two XADDs, MULTI): ${prof.floor.text}. ` +
        `store.append: ${prof.append.text}. bus.publishBatch: ${prof.publish.text}.`,
    ],
    targets: [
      target(
        `bus.publishBatch(${BATCH}) on RedisEventStore, sustained, ≥ 50 % of raw (the faster of MULTI and EVAL)`,
        busShare,
        '>=',
        0.5,
        `bus ${formatNs(1e9 / prof.publish.rate)}/event against raw ${formatNs(1e9 / sustainedRaw)}. ${floorBound(prof.publish.clientNs)}. ${prof.publish.text}.`,
      ),
      target(
        `store.append(${BATCH}), sustained, ≥ 70 % of raw (the faster of MULTI and EVAL)`,
        appendShare,
        '>=',
        0.7,
        `store.append ${formatNs(1e9 / prof.append.rate)}/event against raw ${formatNs(1e9 / sustainedRaw)}. ${floorBound(prof.append.clientNs)}. ${prof.append.text}.`,
      ),
      target(
        'Redis CPU per appended event (bus.publishBatch, its feed reads included) ≤ 1.25× two plain pipelined XADDs',
        cpuRatio,
        '<=',
        1.25,
        `Redis CPU ${formatNs(prof.publish.serverNs)}/event for the bus, ${formatNs(prof.floor.serverNs)} for the floor ` +
          `(${formatRate(1e9 / prof.publish.serverNs)} events/s per Redis core). The id index alone (one HMGET and one HSET per ` +
          `call) brings the two copies written from one script to ${formatRatio(prof.withIndex.serverNs / prof.floor.serverNs)}, ` +
          'before the per-stream bounds, retention and the feed: 1.25× leaves no room for them while appends stay idempotent. ' +
          `Where it goes: ${prof.publish.text}.`,
      ),
      target(
        'bus.publishBatch client CPU per event ≤ 6 µs',
        prof.publish.clientNs / 1000,
        '<=',
        6,
        `this process's CPU ${formatNs(prof.publish.clientNs)}/event: store.append alone ${formatNs(prof.append.clientNs)}, ` +
          `reading events back through store.tail (what the bus's live feed does with its own) ${formatNs(prof.readBack)}, ` +
          `so about ${formatNs(prof.publish.clientNs - prof.append.clientNs - prof.readBack)} for the bus itself (stamping, dedup, ` +
          `matching its own events, delivery). The same work raw, on this node-redis client: one EVAL of the XADDs ` +
          `${formatNs(prof.eval.clientNs)} and XREAD of them with a JSON.parse each ${formatNs(prof.rawRead)}, ` +
          `${formatNs(prof.eval.clientNs + prof.rawRead)} together; what busline adds on top is the idempotency and stream ` +
          'arguments (three per event), the cursor, the check of every entry it reads, and the bus. ' +
          `The store's own write and read back (${formatNs(prof.append.clientNs + prof.readBack)}) leave ` +
          `${formatNs(Math.max(0, 6000 - prof.append.clientNs - prof.readBack))} of the 6 µs for the bus. ` +
          `A bus with no local subscriber decodes none of its events back: ${formatNs(prof.publishQuiet.clientNs)}/event. ` +
          "The bus's own share is the envelope (id, clock, checks, size bound), the dedup window's mark, the publish's wait " +
          '(registered by event id before the append, met by the feed, removed after: three map operations per event) and, ' +
          'with a subscriber, decoding and delivering. Its largest cost, reading its own events back through the feed, is the ' +
          'guarantee itself: on a shared store, local subscribers get every event once and in store order per stream, their ' +
          "own process's and the others' alike, because all of them come through the one feed (docs/guarantees.md). " +
          "Delivering the bus's own events from the append reply would save the read-back and give that order up.",
        ' µs',
      ),
    ],
  };
}

/** This process's CPU per event to read `count` events of `store` from its start through store.tail. */
async function readBackCpu(store, count) {
  const controller = new AbortController();
  const cpu0 = process.cpuUsage();
  let read = 0;
  for await (const _event of store.tail('start', controller.signal)) if (++read === count) break;
  const cpu = process.cpuUsage(cpu0);
  controller.abort();
  return ((cpu.user + cpu.system) * 1000) / read;
}

/** This process's CPU per entry to XREAD `count` entries of `key` (1,000 per call) and JSON.parse each payload. */
async function rawReadCpu(client, key, count) {
  const cpu0 = process.cpuUsage();
  let read = 0;
  let last = '0-0';
  while (read < count) {
    const reply = await client.sendCommand(['XREAD', 'COUNT', String(BATCH), 'STREAMS', key, last]);
    // node-redis answers XREAD as { [key]: entries } (an array of [key, entries] on RESP2 elsewhere).
    const entries = (Array.isArray(reply) ? reply[0]?.[1] : reply && Object.values(reply)[0]) ?? [];
    if (entries.length === 0) break;
    for (const [id, fields] of entries) {
      if (JSON.parse(fields[1]) === null) throw new Error('empty payload');
      last = id;
    }
    read += entries.length;
  }
  const cpu = process.cpuUsage(cpu0);
  return ((cpu.user + cpu.system) * 1000) / read;
}

/** ARGV of the floor-step scripts: fresh id, a stream key under `prefix`, packed entry per input. */
function stepArguments(prefix, createEventId) {
  const now = Date.now();
  const args = [];
  for (let j = 0; j < inputs.length; j++) {
    const input = inputs[j];
    const eventId = createEventId(now);
    const json = JSON.stringify({ type: input.type, stream: input.stream, time: now, data: input.data });
    args.push(
      eventId,
      `{${prefix}}:s:${input.stream}`,
      `${eventId}\n${input.stream}\n${input.type}\n${json}`,
    );
  }
  return args;
}

/** XADD of every payload in one MULTI pipeline; `keysOf(j)` names the keys payload j goes to (default: all of `keys`). */
function multiXAdd(client, keys, payloads, keysOf = () => keys) {
  const multi = client.multi();
  for (let j = 0; j < payloads.length; j++)
    for (const key of keysOf(j))
      multi.xAdd(
        key,
        '*',
        { e: payloads[j] },
        { TRIM: { strategy: 'MAXLEN', strategyModifier: '~', threshold: RAW_MAXLEN } },
      );
  return multi.execAsPipeline();
}

async function replaying(RedisEventStore, busline, client, base) {
  const { createEventId } = busline;
  const store = new RedisEventStore({
    client,
    prefix: `${base}-replay`,
    maxEventsPerStream: REPLAY_EVENTS / REPLAY_STREAMS,
  });
  const fill0 = performance.now();
  for (let i = 0; i < REPLAY_EVENTS; i += PAGE) {
    const now = Date.now();
    const events = [];
    for (let j = i; j < i + PAGE; j++) {
      events.push({
        id: createEventId(now),
        type: j % 2 ? 'job.created' : 'order.placed',
        stream: `replay-${j % REPLAY_STREAMS}`,
        time: now,
        data: { n: j, label: 'replay' },
      });
    }
    await store.append(events);
  }
  const fillRate = (REPLAY_EVENTS / (performance.now() - fill0)) * 1000;
  const stats = await store.stats();
  const cases = [
    { name: `all streams (the log), ${count(REPLAY_EVENTS)} events`, query: {}, lap: REPLAY_EVENTS / PAGE },
    {
      name: `one stream, ${count(REPLAY_EVENTS / REPLAY_STREAMS)} events`,
      query: { stream: 'replay-2' },
      lap: REPLAY_EVENTS / REPLAY_STREAMS / PAGE,
    },
  ];
  const rows = await measure(
    cases.map((c) => pagingContender({ name: c.name, store, query: c.query, lap: c.lap, page: PAGE })),
  );
  // Where a page's time goes: Redis's CPU (XRANGE and the two snapshots) vs this process (decoding).
  let after;
  const prof = await profile(client, REPLAY_EVENTS / PAGE, async () => {
    const page = await store.read(after === undefined ? { limit: PAGE } : { limit: PAGE, after });
    after = page.next;
  });
  await store.close();
  const all = row(rows, cases[0].name);
  return {
    title: 'Redis store: replay paging with store.read',
    summary: `RedisEventStore holding ${count(stats.events)} events over ${REPLAY_STREAMS} streams; limit ${count(PAGE)}, following next.`,
    description: [
      `A \`RedisEventStore({ client, prefix, maxEventsPerStream: ${count(REPLAY_EVENTS / REPLAY_STREAMS)} })\` filled with`,
      `${count(REPLAY_EVENTS)} events by 50 appends of ${count(PAGE)} (fill ran at ${formatRate(fillRate)} events/s). One iteration`,
      `reads one page: \`await store.read({ stream?, limit: ${PAGE}, after })\` with \`after\` = the previous page's \`next\`,`,
      'starting over when a page has no `next`; every page must return 1,000 events (checked). Rate = events returned per second.',
    ].join(' '),
    tables: [{ rows, unit: 'events/s' }],
    extra: [`Profile of one pass over the log (${REPLAY_EVENTS / PAGE} pages in a row): ${prof.text}.`],
    targets: [
      target(
        `replay store.read over ${count(REPLAY_EVENTS)} events (limit ${PAGE}) ≥ 200,000 events/s`,
        all.best,
        '>=',
        2e5,
        `a page of ${PAGE} costs ${formatNs(all.nsPerOp * PAGE)}; per event: ${prof.text}.`,
        ' events/s',
      ),
    ],
  };
}

/** `promise`, or a rejection after `ms`. */
function within(promise, ms, message = `not settled within ${ms} ms`) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function percentiles(values) {
  const sorted = Float64Array.from(values).sort();
  const at = (p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
  return { p50: at(50), p90: at(90), p99: at(99), max: sorted[sorted.length - 1], n: sorted.length };
}
const ms = (x) => `${x.toFixed(2)} ms`;
const pLine = (p) => `p50 ${ms(p.p50)}, p90 ${ms(p.p90)}, p99 ${ms(p.p99)}, max ${ms(p.max)}`;

/**
 * Cross-process latency: LAT_PASSES passes of busline (a publisher process's bus → a subscriber
 * process's bus), interleaved with as many of the raw floor (one EVAL of plain XADDs per tick → an
 * XREAD BLOCK loop, no busline), each with fresh processes and prefix (bench/redis-latency-child.mjs).
 * The target is judged on the median pass: on this 2-vCPU VM single passes swing with the host's
 * scheduling.
 */
export async function crossProcess(base) {
  const passes = { busline: [], raw: [] };
  for (let i = 0; i < LAT_PASSES; i++) {
    passes.raw.push(await latencyPass('raw', `${base}-raw-${i}`));
    passes.busline.push(await latencyPass('busline', `${base}-lat-${i}`));
  }
  const byP99 = (a, b) => a.latency.p99 - b.latency.p99;
  const median = [...passes.busline].sort(byP99)[Math.floor(LAT_PASSES / 2)];
  const rawMedian = [...passes.raw].sort(byP99)[Math.floor(LAT_PASSES / 2)];
  const row = (label, m) =>
    `| ${label} | ${count(m.latency.n)} | ${ms(m.latency.p50)} | ${ms(m.latency.p90)} | ${ms(m.latency.p99)} | ${ms(m.latency.max)} | ${ms(m.loopPublisher)} / ${ms(m.loopSubscriber)} |`;
  const passRows = [];
  for (let i = 0; i < LAT_PASSES; i++) {
    passRows.push(row(`busline pass ${i + 1}`, passes.busline[i]));
    passRows.push(row(`raw floor pass ${i + 1}`, passes.raw[i]));
  }
  const m = median;
  const detail = [
    { label: 'publish → subscriber handler (the target)', p: m.latency },
    { label: 'publish → Redis id time (cursor ms, 1 ms resolution)', p: m.stored },
    { label: "publish → publisher's publishBatch resolved (own feed)", p: m.own },
  ];
  const lost = [...passes.busline, ...passes.raw].filter((pass) => pass.latency.n !== pass.total);
  const p = median.latency;
  return {
    title: 'Redis store: cross-process latency',
    summary: `A publisher process and a subscriber process on one prefix, ${count(LAT_RATE)} events/s for ${LAT_SECONDS} s; ${LAT_PASSES} passes, median judged.`,
    description: [
      'Both sides run in processes of their own (bench/redis-latency-child.mjs), each with its own node-redis client, like two',
      "app processes; the bench runner only coordinates (its heap and JIT state after every other scenario are no app's).",
      `Each pass publishes ${count(m.total)} events at a steady ${count(LAT_RATE)} events/s: on every \`setTimeout(1)\` tick the`,
      'publisher sends the events due by the clock (10 per ms on average) as one call, not awaited',
      `(busline batches of ${m.sizes.p50}–${m.sizes.max} events, median ${m.sizes.p50}). **busline:** the publisher's bus`,
      "(`RedisEventStore`) calls `publishBatch`; the subscriber's bus has one `lat.*` handler, which records for each event",
      '`now − data.sentAt`, both read from CLOCK_MONOTONIC (`process.hrtime`, one clock for all processes on the machine).',
      "**Raw floor:** the same schedule and payloads without busline: the publisher sends one `EVAL` that XADDs the tick's",
      'events to one stream, and the subscriber reads it with an `XREAD BLOCK` loop (node-redis, `JSON.parse` per entry).',
      'Passes alternate raw, busline; each has fresh processes and a fresh prefix. The subscriber reports once the',
      `publisher is done (waiting at most 5 s for the last events). ${lost.length === 0 ? 'Every pass received every event.' : `Passes short of events: ${lost.map((x) => `${x.kind} ${count(x.latency.n)}/${count(x.total)}`).join(', ')}.`}`,
      `In the median busline pass ${count(m.unresolved)} of ${count(m.batches)} publishBatch calls had not resolved 10 s after the last send; ${count(m.failed)} rejected.`,
    ].join(' '),
    tables: [],
    extra: [
      '| pass | n | p50 | p90 | p99 | max | event-loop delay p99, publisher / subscriber |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n' +
        passRows.join('\n'),
      `The median busline pass (p99 ${ms(p.p99)}; the raw floor's median p99 is ${ms(rawMedian.latency.p99)}), in parts:`,
      '| measured | n | p50 | p90 | p99 | max |\n| --- | ---: | ---: | ---: | ---: | ---: |\n' +
        detail
          .map(
            ({ label, p }) =>
              `| ${label} | ${count(p.n)} | ${ms(p.p50)} | ${ms(p.p90)} | ${ms(p.p99)} | ${ms(p.max)} |`,
          )
          .join('\n'),
    ],
    targets: [
      strictlyBelow(
        `cross-process delivery p99 < 5 ms at ${count(LAT_RATE)} events/s, median of ${LAT_PASSES} passes (${pLine(p)}; passes: ${passes.busline.map((x) => ms(x.latency.p99)).join(', ')})`,
        p.p99,
        '<=',
        5,
        `publish → stored in Redis (Redis id time): ${pLine(m.stored)}; the rest is the subscriber's XREAD wake-up and delivery. ` +
          `The publisher's own publishBatch resolved: ${pLine(m.own)}. Event-loop delay p99 publisher ${ms(m.loopPublisher)}, subscriber ` +
          `${ms(m.loopSubscriber)}. Raw floor (no busline) median p99 ${ms(rawMedian.latency.p99)}.`,
        ' ms',
      ),
    ],
  };
}

/** One latency pass of `kind` ('busline' or 'raw'): a subscriber process, then a publisher process. */
async function latencyPass(kind, prefix) {
  const subscriber = startChild(prefix, kind, 'subscribe');
  await subscriber.next(); // ready: positioned
  const publisher = startChild(prefix, kind, 'publish');
  await publisher.next(); // ready
  publisher.send({ go: true });
  const published = await within(
    publisher.next(),
    LAT_SECONDS * 1000 + 30_000,
    'the publisher did not report within its time',
  );
  subscriber.send({ done: true, expected: published.total });
  const received = await within(subscriber.next(), 15_000, 'the subscriber did not report within 15 s');
  await Promise.all([publisher.exited(), subscriber.exited()]);
  return {
    kind,
    total: published.total,
    latency: percentiles(received.latency),
    stored: percentiles(received.storedAt),
    own: percentiles(published.resolveMs),
    sizes: percentiles(published.batchSizes),
    batches: published.batchSizes.length,
    unresolved: published.unresolved,
    failed: published.failed,
    loopPublisher: published.loopP99,
    loopSubscriber: received.loopP99,
  };
}

/** Forks bench/redis-latency-child.mjs in `role`; `next()` resolves with its next IPC message. */
function startChild(prefix, kind, role) {
  const childPath = fileURLToPath(new URL('../redis-latency-child.mjs', import.meta.url));
  const args = [prefix, URL_, kind, role, String(LAT_RATE), String(LAT_SECONDS)];
  const child = fork(childPath, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const messages = [];
  let wake;
  child.on('message', (m) => {
    messages.push(m);
    wake?.();
  });
  return {
    send: (message) => child.send(message),
    async next() {
      while (messages.length === 0) await new Promise((resolve) => (wake = resolve));
      return messages.shift();
    },
    exited: () =>
      within(
        new Promise((resolve) => (child.exitCode !== null ? resolve() : child.once('exit', resolve))),
        5000,
      ).catch(() => child.kill()),
  };
}

/** `target` knows >= and <=; the issue says p99 < 5 ms, so the pass is decided strictly here. */
function strictlyBelow(text, value, _cmp, required, diagnosis, unit) {
  const t = target(text, value, '<=', required, diagnosis, unit);
  const pass = value < required;
  return { ...t, cmp: '<', pass, diagnosis: pass ? undefined : diagnosis };
}
