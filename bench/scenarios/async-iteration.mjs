// Scenario 6: consuming events with `for await`. A producer emits K events, then the consumer's
// for-await loop reads those K, repeated: busline's bounded subscription against node's
// events.on(), emittery's events() and Effect's PubSub → Stream → AsyncIterable.

import { setTimeout as sleep } from 'node:timers/promises';
import { measure } from '../harness.mjs';
import { Effect, Emittery, NodeEventEmitter, nodeOn, PubSub, Stream } from '../peers.mjs';
import { formatProfile, profileLoop } from '../profile.mjs';
import { formatRatio, row, target } from '../report.mjs';

/** Events per round: under busline's default bufferSize (1024), so nothing is dropped. */
const K = 500;
const EVENT = { type: 'job.created', data: { jobId: 42 } };
const ALONE = 'busline BufferedSubscription alone (push + for await, no publish)';

/**
 * The shared round: arm the "K more read" promise, produce K events with the contender's own
 * `produce`, wait until its consumer has read them. The library calls sit in `produce` and in
 * the consumer loop, both written per contender.
 */
const rounds = async (ctx, n) => {
  const { produce, k } = ctx;
  for (let r = 0; r < n; r++) {
    const read = new Promise((resolve) => {
      ctx.wake = resolve;
    });
    ctx.want = ctx.seen + k;
    produce(k);
    await read;
  }
};

/** Consumer bookkeeping, called once per event read by every contender's for-await loop. */
function consumerState(produce) {
  const ctx = { produce, k: K, seen: 0, want: Number.POSITIVE_INFINITY, wake: () => {} };
  ctx.tick = () => {
    if (++ctx.seen === ctx.want) ctx.wake();
  };
  return ctx;
}

/** Produces probes until the consumer sees one (Effect subscribes lazily), then resets the count. */
async function handshake(ctx) {
  while (ctx.seen === 0) {
    ctx.produce(1);
    await sleep(2);
  }
  await sleep(20);
  ctx.seen = 0;
}

export async function run({ busline, internals, findings }) {
  const { EventBus } = busline;
  const { BufferedSubscription } = internals;
  const contenders = [
    {
      name: 'busline subscribe() + for await',
      async setup() {
        const bus = new EventBus({ store: null, dedup: false });
        const sub = bus.subscribe('job.created');
        const ctx = consumerState((k) => {
          for (let i = 0; i < k; i++) void bus.publish(EVENT);
        });
        ctx.sub = sub;
        (async () => {
          for await (const _event of sub) ctx.tick();
        })();
        await handshake(ctx);
        return ctx;
      },
      check: (ctx) =>
        ctx.sub.stats().dropped === 0 ? undefined : `${ctx.sub.stats().dropped} events dropped`,
      teardown: (ctx) => ctx.sub.return(),
    },
    {
      name: ALONE,
      async setup() {
        const owner = { release() {}, dropped() {}, failed() {} };
        const sub = new BufferedSubscription(1024, 'drop-oldest', owner);
        const ctx = consumerState((k) => {
          for (let i = 0; i < k; i++) sub.push(EVENT);
        });
        ctx.sub = sub;
        (async () => {
          for await (const _event of sub) ctx.tick();
        })();
        await handshake(ctx);
        return ctx;
      },
      teardown: (ctx) => ctx.sub.return(),
    },
    {
      name: 'node events.on() + for await',
      async setup() {
        const ee = new NodeEventEmitter();
        const ac = new AbortController();
        const ctx = consumerState((k) => {
          for (let i = 0; i < k; i++) ee.emit('job.created', EVENT);
        });
        ctx.ac = ac;
        (async () => {
          try {
            for await (const _args of nodeOn(ee, 'job.created', { signal: ac.signal })) ctx.tick();
          } catch {
            // aborted at teardown
          }
        })();
        await handshake(ctx);
        return ctx;
      },
      teardown: (ctx) => ctx.ac.abort(),
    },
    {
      name: 'emittery events() + for await',
      async setup() {
        const emitter = new Emittery();
        const iterator = emitter.events('job.created');
        const ctx = consumerState((k) => {
          for (let i = 0; i < k; i++) void emitter.emit('job.created', EVENT);
        });
        ctx.iterator = iterator;
        (async () => {
          for await (const _event of iterator) ctx.tick();
        })();
        await handshake(ctx);
        return ctx;
      },
      teardown: (ctx) => ctx.iterator.return(),
    },
    {
      name: 'Effect PubSub → Stream.toAsyncIterable + for await',
      async setup() {
        const pubsub = Effect.runSync(PubSub.unbounded());
        const iterable = Stream.toAsyncIterable(Stream.fromPubSub(pubsub));
        const ctx = consumerState((k) => {
          for (let i = 0; i < k; i++) Effect.runSync(PubSub.publish(pubsub, EVENT));
        });
        ctx.pubsub = pubsub;
        (async () => {
          for await (const _event of iterable) ctx.tick();
        })();
        await handshake(ctx);
        return ctx;
      },
      teardown: (ctx) => Effect.runPromise(PubSub.shutdown(ctx.pubsub)),
    },
  ].map((c) => ({ ...c, loop: rounds, opsPerIter: K }));
  const rows = await measure(contenders);
  const profile = formatProfile(await profileLoop({ ...contenders[0], name: 'busline iteration' }, { n: 4 }));
  const bus = row(rows, 'busline subscribe() + for await');
  const node = row(rows, 'node events.on() + for await');
  const emittery = row(rows, 'emittery events() + for await');
  const alone = row(rows, ALONE);
  const publishNs = findings.publishNs;
  const diagnose = (peer) =>
    `busline delivers and reads an event in ${bus.nsPerOp.toFixed(0)} ns against ${peer.nsPerOp.toFixed(0)} ns for ${peer.name.split(' ')[0]}. ` +
    `The subscription's own push + for-await read costs ${alone.nsPerOp.toFixed(0)} ns (row "${ALONE}")` +
    (publishNs
      ? `; the rest is publish, ${publishNs.toFixed(0)} ns per event in "One exact-type subscriber"`
      : '') +
    `. CPU profile of the busline rounds, self time: ${profile}.`;
  return {
    title: 'Async iteration',
    summary: `per round: produce ${K} events, then the for-await consumer reads those ${K}; rate = events read per second.`,
    description: [
      `A long-lived \`for await\` consumer per library; per round the producer emits ${K} events`,
      `(fewer than busline's default bufferSize of 1024, so nothing is dropped — checked), then waits`,
      `until the consumer has read all ${K}. busline: \`bus.subscribe('job.created')\` on a pure bus, producer`,
      '`bus.publish` (promise not awaited). node: `events.on(emitter, name)`, producer `emit`. emittery v1:',
      '`emitter.events(name)`, producer `emitter.emit` (promise not awaited). Effect v3: `PubSub.unbounded()`,',
      '`Stream.fromPubSub` → `Stream.toAsyncIterable`, producer `Effect.runSync(PubSub.publish(...))` per event.',
      'The row "BufferedSubscription alone" pushes straight into busline\'s subscription class (bundled from src/),',
      "without publish, to separate the iterator's cost from the publish cost.",
    ].join(' '),
    tables: [{ rows, baseline: bus.name, ratioLabel: 'busline ÷ this', unit: 'events/s' }],
    targets: [
      target('busline ≥ 1× node events.on()', bus.best / node.best, '>=', 1, diagnose(node)),
      target(
        'busline ≥ 0.5× node events.on() (issue #18)',
        bus.best / node.best,
        '>=',
        0.5,
        diagnose(node) + iterationFloor(findings, alone, node),
      ),
      target('busline ≥ 5× emittery events()', bus.best / emittery.best, '>=', 5, diagnose(emittery)),
    ],
  };
}

/**
 * What an event through `subscribe` cannot do without: the stamp's id, clock and size bound and
 * the event object (timed in "One exact-type subscriber"), and the subscription's own push and read.
 */
function iterationFloor(findings, alone, node) {
  const stamp = (findings.breakdown ?? []).filter(
    (piece) => piece.part && ['id', 'clock', 'size', 'envelope'].includes(piece.name.split(':')[0]),
  );
  if (stamp.length !== 4) return '';
  const stampNs = stamp.reduce((total, piece) => total + piece.ns, 0);
  const floorNs = stampNs + alone.nsPerOp;
  return (
    ` Floor: the envelope's id, clock, size bound and object (${stampNs.toFixed(0)} ns) plus the subscription's own push and read` +
    ` (${alone.nsPerOp.toFixed(0)} ns) make ${floorNs.toFixed(0)} ns, ${formatRatio(node.nsPerOp / floorNs)} of node with everything else free` +
    ` (dispatch, the result promise, the calls between); node's events.on has no envelope to build.`
  );
}
