// Scenario 10 (issue "Deduplicator and RateLimiter"): RateLimiter.tryTake on one hot key and on
// 1,000 rotating keys, and the default pipeline with a limiter that never limits, to show what
// the gate's rate check costs per publish.

import { measure } from '../harness.mjs';
import { formatProfile, profileLoop } from '../profile.mjs';
import { formatNs, formatRatio, row, target } from '../report.mjs';
import {
  BATCH,
  pipelineBatchLoop,
  pipelineBus,
  pipelineCheck,
  pipelineSingleLoop,
  pipelineTeardown,
  STREAMS,
} from './shared.mjs';

const KEYS = 1000;
/** Never limits at any rate this machine reaches: 10⁹ tokens per second, burst 10⁹. */
const NEVER = { rate: 1e9 };

const HOT = 'RateLimiter.tryTake(key), one hot key';
const ROTATING = `RateLimiter.tryTake(key), ${KEYS.toLocaleString('en-US')} rotating keys`;
const BATCH_DEFAULT = `default: publishBatch(${BATCH})`;
const BATCH_LIMITED = `default + rateLimit { rate: 1e9 }: publishBatch(${BATCH})`;
const SINGLE_DEFAULT = 'default: publish, awaited one by one';
const SINGLE_LIMITED = 'default + rateLimit { rate: 1e9 }: publish, awaited one by one';
const GATE_PLAIN = 'PublishGate.admit(event), dedup only (as in new EventBus())';
const GATE_LIMITED = 'PublishGate.admit(event), dedup + rateLimit { rate: 1e9 }';

export async function run({ busline, internals, findings }) {
  const { EventBus, RateLimiter, createEventId } = busline;
  const { PublishGate, Deduplicator, MemoryEventStore } = internals;
  const keys = Array.from({ length: KEYS }, (_, i) => `stream-${i}`);
  const takeLoop = (ctx, n) => {
    const { limiter, keys } = ctx;
    const mask = keys.length - 1;
    let k = ctx.k;
    let refused = 0;
    for (let i = 0; i < n; i++) {
      if (!limiter.tryTake(keys[k])) refused++;
      k = k === mask ? 0 : k + 1;
    }
    ctx.k = k;
    ctx.refused += refused;
  };
  const limiterSpec = (name, keyList) => ({
    name,
    setup: () => ({ limiter: new RateLimiter(NEVER), keys: keyList, k: 0, refused: 0 }),
    loop: takeLoop,
    check: (ctx) => (ctx.refused === 0 ? undefined : `${ctx.refused} takes refused`),
  });
  const ctxs = {};
  const pipelineSpec = (name, options, loop) => ({
    name,
    setup: async () => (ctxs[name] = await pipelineBus(EventBus, options)),
    loop,
    opsPerIter: loop === pipelineBatchLoop ? BATCH : 1,
    step: loop === pipelineBatchLoop ? 1 : BATCH,
    check: pipelineCheck,
    teardown: pipelineTeardown,
  });
  // The gate alone (bundled from src/), as the default bus builds it, with and without a limiter;
  // each call gets a fresh id from createEventId, as publish hands it over.
  const gateSpec = (name, limiter) => ({
    name,
    setup: () => ({
      gate: new PublishGate({
        dedup: new Deduplicator(),
        limiter: limiter ? new RateLimiter(NEVER) : null,
        limitKey: (event) => event.stream,
        store: new MemoryEventStore(),
        recentIds: 10_000,
        dedupOnBusClock: true,
        limiterOnBusClock: true,
      }),
      createEventId,
      keys: keys.slice(0, STREAMS),
      now: Date.now(),
      k: 0,
      refused: 0,
    }),
    loop: async (ctx, n) => {
      const { gate, createEventId, keys } = ctx;
      let k = ctx.k;
      let refused = 0;
      for (let i = 0; i < n; i++) {
        const event = { id: createEventId(ctx.now + (i >>> 10)), stream: keys[k] };
        k = k + 1 === keys.length ? 0 : k + 1;
        // One clock read per event, handed to the gate: what the stamper reads and the bus passes on.
        let verdict = gate.admit(event, undefined, Date.now());
        if (verdict instanceof Promise) verdict = await verdict;
        if (verdict !== 'admit') refused++;
      }
      ctx.now += (n >>> 10) + 1;
      ctx.k = k;
      ctx.refused += refused;
    },
    step: BATCH,
    check: (ctx) => (ctx.refused === 0 ? undefined : `${ctx.refused} events refused`),
  });
  const rows = await measure([
    limiterSpec(HOT, ['stream-0']),
    limiterSpec(ROTATING, keys),
    pipelineSpec(BATCH_DEFAULT, undefined, pipelineBatchLoop),
    pipelineSpec(BATCH_LIMITED, { rateLimit: NEVER }, pipelineBatchLoop),
    pipelineSpec(SINGLE_DEFAULT, undefined, pipelineSingleLoop),
    pipelineSpec(SINGLE_LIMITED, { rateLimit: NEVER }, pipelineSingleLoop),
    gateSpec(GATE_PLAIN, false),
    gateSpec(GATE_LIMITED, true),
  ]);
  const hot = row(rows, HOT);
  const rotating = row(rows, ROTATING);
  const gate = (plain, limited) => {
    const a = row(rows, plain);
    const b = row(rows, limited);
    return { ratio: a.best / b.best, ns: b.nsPerOp - a.nsPerOp };
  };
  const batchGate = gate(BATCH_DEFAULT, BATCH_LIMITED);
  const singleGate = gate(SINGLE_DEFAULT, SINGLE_LIMITED);
  const gateAlone = gate(GATE_PLAIN, GATE_LIMITED);
  const pipelineSpread = Math.max(
    ...[BATCH_DEFAULT, BATCH_LIMITED, SINGLE_DEFAULT, SINGLE_LIMITED].map((name) => row(rows, name).spread),
  );
  const limitedStats = ctxs[SINGLE_LIMITED].final.rateLimit;
  const dedup = findings.dedup;
  const twoStep = dedup
    ? ` With a limiter the gate no longer calls checkAndMark but isDuplicate, then markSeen once the limiter admits the event; markSeen reuses isDuplicate's hash, and the bus hands both the time it read (timed in "Deduplicator" without that time: ${formatNs(dedup.twoStepNs)} against ${formatNs(dedup.checkNs)} for checkAndMark, ${formatNs(dedup.twoStepNs - dedup.checkNs)} more).`
    : '';

  const diagnose = async (spec, r) => {
    const profile = formatProfile(await profileLoop(spec, { n: 10_000 }));
    return `tryTake costs ${formatNs(r.nsPerOp)}; CPU profile, self time: ${profile}.`;
  };
  const hotDiagnosis = hot.best >= 5e6 ? '' : await diagnose(limiterSpec(HOT, ['stream-0']), hot);
  const rotatingDiagnosis = rotating.best >= 5e6 ? '' : await diagnose(limiterSpec(ROTATING, keys), rotating);

  return {
    title: 'RateLimiter',
    summary: `tryTake with rate 1e9 (never refuses), one key and ${KEYS} keys; then new EventBus() with and without rateLimit: { rate: 1e9 }.`,
    description: [
      '`new RateLimiter({ rate: 1e9 })` (public build; 10⁹ tokens per second, burst 10⁹, so no take is ever refused —',
      `checked): \`tryTake(key)\` on one key, and on ${KEYS} keys taken in turn (\`stream-0\` … \`stream-${KEYS - 1}\`),`,
      'each key a bucket in its Map. Then the default pipeline of "Store: the default pipeline" (`new EventBus()`,',
      `${STREAMS} streams, generated ids, prefilled) against the same with \`rateLimit: { rate: 1e9 }\`, keyed by stream`,
      "(the default `rateLimitKey`): a limiter that never limits, so the difference is the gate's rate check alone.",
      'The last two rows time `PublishGate.admit` alone (bundled from src/, built as the default bus builds it: a',
      'Deduplicator with defaults, a MemoryEventStore for confirmations) with and without that limiter, on a fresh',
      `\`createEventId\` id per call and ${STREAMS} stream keys, and one \`Date.now()\` per call handed to \`admit\` as the bus hands it the time its stamper read.`,
    ].join(' '),
    tables: [{ rows }],
    extra: [
      [
        '| the rate check in the default pipeline | publishBatch(1,000) | publish, awaited one by one |',
        '| --- | ---: | ---: |',
        `| default ÷ default + rateLimit (how many times slower with the limiter) | ${formatRatio(batchGate.ratio)} | ${formatRatio(singleGate.ratio)} |`,
        `| time added per event | ${formatNs(batchGate.ns)} | ${formatNs(singleGate.ns)} |`,
      ].join('\n'),
      `The gate alone (last two rows, no store append or dispatch around it, so far less noise): the limiter adds ` +
        `${formatNs(gateAlone.ns)} per event (${formatNs(row(rows, GATE_PLAIN).nsPerOp)} → ${formatNs(row(rows, GATE_LIMITED).nsPerOp)}, ` +
        `both including a fresh createEventId); tryTake itself costs ${formatNs(rotating.nsPerOp)} with ${KEYS} keys.` +
        (Math.min(batchGate.ns, singleGate.ns) < 0 || Math.min(batchGate.ratio, singleGate.ratio) < 1
          ? ` In the whole pipeline the limiter's cost is within the noise of those rows (spread up to ${pipelineSpread.toFixed(2)}: ` +
            'a slower pass of the store-heavy buses, GC of 100,000 retained events, moves them more than the rate check does).'
          : ''),
      `The limited bus tracked ${limitedStats.keys} keys (one per stream), ${limitedStats.allowed.toLocaleString('en-US')} tokens taken, ${limitedStats.limited} refused.${twoStep}`,
    ],
    targets: [
      target(
        'RateLimiter.tryTake, one hot key ≥ 5,000,000 ops/s',
        hot.best,
        '>=',
        5e6,
        hotDiagnosis,
        ' ops/s',
      ),
      target(
        `RateLimiter.tryTake, ${KEYS.toLocaleString('en-US')} rotating keys ≥ 5,000,000 ops/s`,
        rotating.best,
        '>=',
        5e6,
        rotatingDiagnosis,
        ' ops/s',
      ),
    ],
  };
}
