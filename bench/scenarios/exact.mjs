// Scenario 1: one subscriber on an exact type, the plain-emitter case. busline does more per
// event than an emitter (validation, a UUIDv7 id, an envelope, a promise), so besides the
// ratios this scenario times each of those pieces on its own to show where the time goes.

import { measure } from '../harness.mjs';
import { EventEmitter3, mitt, NodeEventEmitter, Tseep } from '../peers.mjs';
import { formatProfile, profileLoop } from '../profile.mjs';
import { BATCH, batchedPublish, eventIdContender } from './shared.mjs';

const TYPE = 'job.created';
const DATA = { jobId: 42, name: 'render', attempts: 1 };

export async function run({ busline, internals, findings }) {
  const { EventBus, createEventId } = busline;
  const rows = await measure([
    {
      name: 'busline publish',
      setup() {
        const bus = new EventBus({ store: null, dedup: false });
        const ctx = { bus, event: { type: TYPE, data: DATA }, ps: new Array(BATCH), count: 0 };
        bus.on(TYPE, () => {
          ctx.count++;
        });
        return ctx;
      },
      loop: batchedPublish,
      step: BATCH,
      check: (ctx) => (ctx.count > 0 ? undefined : 'handler never ran'),
    },
    {
      name: 'eventemitter3 emit',
      setup() {
        const ctx = { ee: new EventEmitter3(), data: DATA, count: 0 };
        ctx.ee.on(TYPE, () => {
          ctx.count++;
        });
        return ctx;
      },
      loop: (ctx, n) => {
        const { ee, data } = ctx;
        for (let i = 0; i < n; i++) ee.emit('job.created', data);
      },
      check: (ctx) => (ctx.count > 0 ? undefined : 'handler never ran'),
    },
    {
      name: 'tseep emit',
      setup() {
        const ctx = { ee: new Tseep(), data: DATA, count: 0 };
        ctx.ee.on(TYPE, () => {
          ctx.count++;
        });
        return ctx;
      },
      loop: (ctx, n) => {
        const { ee, data } = ctx;
        for (let i = 0; i < n; i++) ee.emit('job.created', data);
      },
      check: (ctx) => (ctx.count > 0 ? undefined : 'handler never ran'),
    },
    {
      name: 'node:events emit',
      setup() {
        const ctx = { ee: new NodeEventEmitter(), data: DATA, count: 0 };
        ctx.ee.on(TYPE, () => {
          ctx.count++;
        });
        return ctx;
      },
      loop: (ctx, n) => {
        const { ee, data } = ctx;
        for (let i = 0; i < n; i++) ee.emit('job.created', data);
      },
      check: (ctx) => (ctx.count > 0 ? undefined : 'handler never ran'),
    },
    {
      name: 'mitt emit',
      setup() {
        const ctx = { ee: mitt(), data: DATA, count: 0 };
        ctx.ee.on(TYPE, () => {
          ctx.count++;
        });
        return ctx;
      },
      loop: (ctx, n) => {
        const { ee, data } = ctx;
        for (let i = 0; i < n; i++) ee.emit('job.created', data);
      },
      check: (ctx) => (ctx.count > 0 ? undefined : 'handler never ran'),
    },
  ]);

  const pieces = await measure(breakdownContenders(EventBus, createEventId, internals));
  const publish = pieces.find((r) => r.name === PUBLISH);
  const parts = pieces.filter((r) => r !== publish && !NOT_PARTS.has(r.name));
  const sum = parts.reduce((total, r) => total + r.nsPerOp, 0);
  findings.breakdown = pieces.map((r) => ({ name: r.name, ns: r.nsPerOp, part: parts.includes(r) }));
  findings.publishNs = publish.nsPerOp;
  findings.piecesSumNs = sum;
  findings.sizeNs = pieces.find((r) => r.name === SIZE).nsPerOp;
  findings.dataWalkNs = pieces.find((r) => r.name === INSIDE_SIZE).nsPerOp;
  findings.stampNs = pieces.find((r) => r.name === STAMP).nsPerOp;
  findings.publishProfile = formatProfile(
    await profileLoop({ ...breakdownContenders(EventBus, createEventId, internals)[0], name: 'publish' }),
  );
  const stampParts = parts.slice(0, 5).reduce((total, r) => total + r.nsPerOp, 0);

  return {
    title: 'One exact-type subscriber',
    summary: `publish("${TYPE}") to one handler; busline: new EventBus({ store: null, dedup: false }), ${BATCH} publish calls then await Promise.all of their promises, repeated.`,
    description: [
      `One handler subscribed to \`${TYPE}\`; each contender delivers \`{ jobId, name, attempts }\` to it.`,
      `busline runs in pure mode (\`new EventBus({ store: null, dedup: false })\`); its loop calls \`bus.publish({ type, data })\``,
      `${BATCH} times, then awaits \`Promise.all\` of those ${BATCH} promises, and repeats, so the`,
      'promise settling is inside the timed work. The emitters call `emit(type, data)` synchronously.',
      'No target: busline builds a validated, id-stamped envelope and returns a promise per event,',
      'which an emitter does not; the second table shows what each of those pieces costs on its own.',
    ].join(' '),
    tables: [
      { rows, baseline: 'busline publish', ratioLabel: 'busline ÷ this' },
      {
        caption: `Where one busline publish spends its time (each piece timed alone, same interleaved run; internals bundled from src/ by esbuild; indented rows are parts or sums of other rows, left out of the sum):`,
        rows: pieces,
        shareOf: PUBLISH,
      },
    ],
    extra: [
      `Sum of the pieces: ${sum.toFixed(0)} ns of the ${publish.nsPerOp.toFixed(0)} ns a publish costs (${((100 * sum) / publish.nsPerOp).toFixed(0)} %); the rest lies in no single piece (the calls between them, GC of the per-event objects; see the profile).`,
      `The first five pieces are what \`EventStamper.stamp\` does (validate, clock, id, envelope, size check \`envelopeFits(event, limit)\`): ${stampParts.toFixed(0)} ns timed apart against ${findings.stampNs.toFixed(0)} ns for the real \`stamp\` call timed whole. The size check costs ${findings.sizeNs.toFixed(0)} ns, and the bound's walk of data \`jsonByteBound(data)\` timed alone ${findings.dataWalkNs.toFixed(0)} ns (${((100 * findings.dataWalkNs) / findings.sizeNs).toFixed(0)} % of it): the bound counts names and strings by their length (6 bytes per unit) without reading a character, and measures exactly only an event whose bound passes the limit, so walking the structure of \`data\` is what is left.`,
      `CPU profile of the publish loop (V8 sampling profiler, self time, dist/index.js lines): ${findings.publishProfile}.`,
    ],
    targets: [],
  };
}

const PUBLISH = 'publish, whole (awaited per 1,000)';
const SIZE = 'size: envelopeFits(event, limit), an upper bound, exact only near the limit';
/** Parts or sums of other pieces, shown to explain them; left out of the sum. */
const INSIDE_SIZE = '  (inside size) jsonByteBound(data)';
const STAMP = '  (validate … size together) EventStamper.stamp(input)';
const CLOCK = 'clock: tickClock(Date.now), one reading shared by up to 8 stamps in a run';
/** Exported for the dedup scenario, which quotes what one clock reading costs. */
export const CLOCK_READ = '  (inside clock) one Date.now()';
const NOT_PARTS = new Set([INSIDE_SIZE, STAMP, CLOCK_READ]);

/** Each piece of `EventBus.publish` reproduced with the bundled internals, in publish order. */
function breakdownContenders(EventBus, createEventId, internals) {
  const {
    SubscriptionIndex,
    envelopeProblem,
    envelopeFits,
    jsonByteBound,
    Dispatcher,
    Subscriber,
    StreamCounter,
    EventStamper,
    tickClock,
  } = internals;
  const { parsePattern } = internals;
  const handlerCtx = () => {
    const ctx = { count: 0 };
    const handler = () => {
      ctx.count++;
    };
    const subscriber = new Subscriber([parsePattern(TYPE)], undefined, undefined, handler, undefined);
    const index = new SubscriptionIndex();
    index.add(subscriber);
    return Object.assign(ctx, { index, subscriber });
  };
  const stored = {
    id: createEventId(Date.now()),
    type: TYPE,
    stream: 'default',
    time: Date.now(),
    data: DATA,
    meta: undefined,
  };
  stored.cursor = stored.id;
  return [
    {
      name: PUBLISH,
      setup() {
        const bus = new EventBus({ store: null, dedup: false });
        const ctx = { bus, event: { type: TYPE, data: DATA }, ps: new Array(BATCH), count: 0 };
        bus.on(TYPE, () => {
          ctx.count++;
        });
        return ctx;
      },
      loop: batchedPublish,
      step: BATCH,
    },
    {
      name: 'validate: envelopeProblem + cached type lookup',
      setup: () => Object.assign(handlerCtx(), { envelopeProblem, input: { type: TYPE, data: DATA } }),
      loop: (ctx, n) => {
        const { envelopeProblem, index, input } = ctx;
        let bad = 0;
        for (let i = 0; i < n; i++) {
          const problem = envelopeProblem(input) ?? (index.lookup(input.type) ? undefined : 'type');
          if (problem !== undefined) bad++;
        }
        ctx.bad = bad;
      },
    },
    {
      // What the stamper reads: the bus's tick clock shares one Date.now() among up to 8 stamps
      // in one synchronous run (src/publish/tick-clock.ts), as the publish loop's 1,000 are.
      name: CLOCK,
      setup: () => ({ clock: tickClock(Date.now), total: 0 }),
      loop: (ctx, n) => {
        const { clock } = ctx;
        let total = 0;
        for (let i = 0; i < n; i++) total += clock();
        ctx.total = total;
      },
    },
    {
      name: CLOCK_READ,
      setup: () => ({ total: 0 }),
      loop: (ctx, n) => {
        let total = 0;
        for (let i = 0; i < n; i++) total += Date.now();
        ctx.total = total;
      },
    },
    eventIdContender('id: createEventId(now)', createEventId),
    {
      name: 'envelope: build the event object',
      setup: () => ({ id: stored.id, now: stored.time, input: { type: TYPE, data: DATA }, last: undefined }),
      loop: (ctx, n) => {
        const { id, input, now } = ctx;
        for (let i = 0; i < n; i++) {
          ctx.last = {
            id,
            type: input.type,
            stream: input.stream ?? 'default',
            time: input.time ?? now,
            data: input.data,
            meta: input.meta,
            cursor: id,
          };
        }
      },
    },
    {
      // What EventStamper#complete runs: envelopeFits bounds the envelope's JSON size without
      // reading characters, and measures exactly only when the bound does not settle it.
      name: SIZE,
      setup: () => ({ envelopeFits, event: stored, total: 0 }),
      loop: (ctx, n) => {
        const { envelopeFits, event } = ctx;
        let total = 0;
        for (let i = 0; i < n; i++) if (envelopeFits(event, 65536)) total++;
        ctx.total = total;
      },
      check: (ctx) => (ctx.total > 0 ? undefined : 'size over the limit'),
    },
    {
      name: INSIDE_SIZE,
      setup: () => ({ jsonByteBound, data: DATA, total: 0 }),
      loop: (ctx, n) => {
        const { jsonByteBound, data } = ctx;
        let total = 0;
        for (let i = 0; i < n; i++) total += jsonByteBound(data, 65000);
        ctx.total = total;
      },
    },
    {
      name: STAMP,
      setup: () => {
        const ctx = handlerCtx();
        ctx.stamper = new EventStamper({
          schemas: new Map(),
          maxEventBytes: 65536,
          clock: Date.now,
          isKnownType: (type) => ctx.index.lookup(type) !== undefined,
        });
        ctx.input = { type: TYPE, data: DATA };
        ctx.last = undefined;
        return ctx;
      },
      loop: (ctx, n) => {
        const { stamper, input } = ctx;
        let last;
        for (let i = 0; i < n; i++) last = stamper.stamp(input, undefined);
        ctx.last = last;
      },
      check: (ctx) => (typeof ctx.last?.id === 'string' ? undefined : 'stamp returned no event'),
    },
    {
      name: 'dispatch: lookup + stream count + deliver + result',
      setup: () =>
        Object.assign(handlerCtx(), {
          dispatcher: new Dispatcher(() => {}),
          streams: new StreamCounter(),
          event: stored,
          result: undefined,
        }),
      loop: (ctx, n) => {
        const { dispatcher, streams, index, event } = ctx;
        let result;
        for (let i = 0; i < n; i++) {
          const entry = index.lookup(event.type);
          streams.count(event.stream);
          const deliveredTo = dispatcher.deliver(event, entry.members);
          result = { id: event.id, status: 'delivered', deliveredTo };
          if (dispatcher.takeBackpressure() !== undefined) result = undefined;
        }
        ctx.result = result;
      },
    },
    {
      // publish is a plain function returning Promise.resolve of its synchronous result.
      name: 'promise: Promise.resolve(result), awaited per 1,000',
      setup: () => ({
        ps: new Array(BATCH),
        result: { id: stored.id, status: 'delivered', deliveredTo: 1 },
        settle: (r) => Promise.resolve(r),
      }),
      loop: async (ctx, n) => {
        const { ps, result, settle } = ctx;
        for (let i = 0; i < n; i += ps.length) {
          for (let j = 0; j < ps.length; j++) ps[j] = settle(result);
          await Promise.all(ps);
        }
      },
      step: BATCH,
    },
  ];
}
