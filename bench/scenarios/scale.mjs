// Scenario 4: 10, 1,000 and 10,000 subscribed patterns of mixed shapes, exactly one matching
// the published type. busline must not get slower with the number of patterns (≤ 1.5× from 10
// to 10,000) and must stay ≥ 2× eventemitter2 at 10,000.

import { measure } from '../harness.mjs';
import { describePatterns, mixedPatterns, SCALE_TYPE } from '../patterns.mjs';
import { wildcardEmitter2 } from '../peers.mjs';
import { row, target } from '../report.mjs';
import { BATCH, batchedPublish, publishDiagnosis } from './shared.mjs';
import { LOOKUP, matchContenders, QLOBBER, RAW } from './wildcard.mjs';

const SIZES = [10, 1000, 10000];
const DATA = { orderId: 7, total: 99.5 };

const label = (n) => n.toLocaleString('en-US');

export async function run({ busline, internals, findings }) {
  const { EventBus } = busline;
  const sets = new Map(SIZES.map((n) => [n, mixedPatterns(n)]));
  const contenders = [];
  for (const n of SIZES) {
    contenders.push({
      name: `busline publish, ${label(n)} patterns`,
      setup() {
        const bus = new EventBus({ store: null, dedup: false });
        const ctx = {
          bus,
          event: { type: SCALE_TYPE, data: DATA },
          ps: new Array(BATCH),
          count: 0,
          others: 0,
        };
        for (const p of sets.get(n)) {
          // Only the one matching pattern's handler should ever run.
          bus.on(p, p === 'orders.*.created' ? () => ctx.count++ : () => ctx.others++);
        }
        return ctx;
      },
      loop: batchedPublish,
      step: BATCH,
      check: (ctx) => (ctx.count > 0 && ctx.others === 0 ? undefined : `matched ${ctx.count}/${ctx.others}`),
    });
  }
  for (const n of SIZES) {
    contenders.push({
      name: `eventemitter2 emit, ${label(n)} patterns`,
      setup() {
        const ctx = { ee: wildcardEmitter2(), type: SCALE_TYPE, data: DATA, count: 0, others: 0 };
        for (const p of sets.get(n))
          ctx.ee.on(p, p === 'orders.*.created' ? () => ctx.count++ : () => ctx.others++);
        return ctx;
      },
      loop: (ctx, n) => {
        const { ee, type, data } = ctx;
        for (let i = 0; i < n; i++) ee.emit(type, data);
      },
      check: (ctx) => (ctx.count > 0 && ctx.others === 0 ? undefined : `matched ${ctx.count}/${ctx.others}`),
    });
  }
  const publishRows = await measure(contenders);

  const matchSpecs = [];
  for (const n of SIZES) {
    const [lookup, raw, qlobber] = matchContenders(internals, sets.get(n), SCALE_TYPE, `, ${label(n)}`);
    matchSpecs.push(lookup, raw, qlobber);
  }
  const matchRows = await measure(matchSpecs);

  const big = label(10000);
  const b10 = row(publishRows, 'busline publish, 10 patterns');
  const b10k = row(publishRows, `busline publish, ${big} patterns`);
  const e10k = row(publishRows, `eventemitter2 emit, ${big} patterns`);
  const shapes = describePatterns(sets.get(10000));
  const q10k = row(matchRows, `${QLOBBER}, ${big}`);
  const r10k = row(matchRows, `${RAW}, ${big}`);
  const l10k = row(matchRows, `${LOOKUP}, ${big}`);
  return {
    title: 'Many patterns (10 / 1,000 / 10,000)',
    summary: `publish "${SCALE_TYPE}"; exactly one pattern (orders.*.created) matches; busline awaits Promise.all every ${BATCH} publishes.`,
    description: [
      `Each library subscribes N distinct patterns (one handler each) drawn by a fixed-seed generator`,
      `(bench/patterns.mjs): at 10,000, ${shapes.literal} literal, ${shapes.star} with \`*\`, ${shapes.globstar} with \`**\``,
      `first, middle or last, 1–5 segments, many sharing words with the type. Exactly one, \`orders.*.created\`,`,
      `matches the published \`${SCALE_TYPE}\` (checked against a reference matcher, and each run checks`,
      'that only its handler ran). busline awaits `Promise.all` every 1,000 publishes.',
    ].join(' '),
    tables: [
      { caption: 'Publish:', rows: publishRows, baseline: b10.name, ratioLabel: 'busline@10 ÷ this' },
      {
        caption: 'Match step alone (speed relative to qlobber at 10,000; above 1 = faster):',
        rows: matchRows,
        baseline: q10k.name,
        ratioLabel: 'this ÷ qlobber@10,000',
        speedVsBaseline: true,
      },
    ],
    targets: [
      target(
        'busline publish cost at 10,000 patterns ≤ 1.5× its cost at 10',
        b10.best / b10k.best,
        '<=',
        1.5,
        `publish costs ${b10k.nsPerOp.toFixed(0)} ns at 10,000 against ${b10.nsPerOp.toFixed(0)} ns at 10; the cached lookup costs ${l10k.nsPerOp.toFixed(1)} ns at 10,000 and the uncached trie match ${r10k.nsPerOp.toFixed(0)} ns.`,
      ),
      target(
        'busline publish ≥ 2× eventemitter2 emit at 10,000 patterns',
        b10k.best / e10k.best,
        '>=',
        2,
        publishDiagnosis(findings, {
          publishNs: b10k.nsPerOp,
          peer: 'eventemitter2',
          peerNs: e10k.nsPerOp,
          matchNs: l10k.nsPerOp,
        }),
      ),
    ],
    extra: [
      `For reference at 10,000 patterns: the uncached trie match costs ${r10k.nsPerOp.toFixed(0)} ns, qlobber ${q10k.nsPerOp.toFixed(0)} ns (no target here).`,
    ],
  };
}
