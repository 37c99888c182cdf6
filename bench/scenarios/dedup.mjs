// Scenario 9 (issue "Deduplicator and RateLimiter", item 5): Deduplicator.checkAndMark on fresh
// UUIDv7 ids against the bloom-filters package with its default hashing, then memory against a
// single optimal filter, then measured false-positive rates of both at the same n and p.

import { readFileSync } from 'node:fs';
import { measure } from '../harness.mjs';
import { formatLines, formatProfile, profileLoop } from '../profile.mjs';
import { formatCount as count, formatBytes, formatNs, formatRatio, row, target } from '../report.mjs';
import { CLOCK_READ } from './exact.mjs';
import { eventIdContender, flatIds } from './shared.mjs';

/** The Deduplicator's defaults (DEDUP_DEFAULTS), used for both filters. */
const N = 10_000;
const P = 0.01;
/** Fresh ids per false-positive measurement. */
const PROBES = 100_000;
/**
 * Ids cycled through by the timed loops: more than either filter remembers (the Deduplicator at
 * most 1.25 × n = 12,500, the package filter is replaced every n adds), yet small enough to stay
 * in cache, as an id just created by publish is.
 */
const POOL = 1 << 14;
/** The Deduplicator's generations beyond the current one (SPANS in src/dedup/deduplicator.ts). */
const SPANS = 4;

const DEDUP = 'Deduplicator.checkAndMark(id)';
const PACKAGE = 'bloom-filters BloomFilter.create(n, p): has(id), add(id) if new';
const HASH = '  (inside checkAndMark) DoubleHash.compute(id)';
const FRESH = 'createEventId(now) + checkAndMark(id): a fresh id as publish makes it';
const ID_ALONE = '  createEventId(now) alone';
const TWO_STEP = 'isDuplicate(id) + markSeen(id) (what the gate runs when a rate limit is set)';

const pct = (x) => `${(100 * x).toFixed(2)} %`;

export async function run({ busline, internals, findings }) {
  const { Deduplicator, createEventId } = busline;
  // The package entry (it loads reflect-metadata, which patches the global Reflect): bench only.
  const pkg = await import('bloom-filters');
  const BloomFilter = pkg.BloomFilter ?? pkg.default.BloomFilter;
  const { DoubleHash } = internals;
  const ids = flatIds(createEventId, POOL);
  const probeIds = flatIds(createEventId, PROBES);

  const dedupCtx = () => ({ dedup: new Deduplicator(), ids, k: 0, ops: 0, positives: 0 });
  const freshCheck = (ctx) => {
    // Ids come back only after POOL others; the filter remembers at most 1.25 × n of them.
    const rate = ctx.positives / ctx.ops;
    return rate < 0.02 ? undefined : `${pct(rate)} of the ids were reported seen: not fresh`;
  };
  const rows = await measure([
    {
      name: DEDUP,
      setup: dedupCtx,
      loop: (ctx, n) => {
        const { dedup, ids } = ctx;
        const mask = ids.length - 1;
        let k = ctx.k;
        let positives = 0;
        for (let i = 0; i < n; i++) {
          if (dedup.checkAndMark(ids[k])) positives++;
          k = (k + 1) & mask;
        }
        ctx.k = k;
        ctx.ops += n;
        ctx.positives += positives;
      },
      check: freshCheck,
    },
    {
      name: PACKAGE,
      setup: () => ({
        BloomFilter,
        filter: BloomFilter.create(N, P),
        added: 0,
        ids,
        k: 0,
        ops: 0,
        positives: 0,
      }),
      loop: (ctx, n) => {
        const { BloomFilter, ids } = ctx;
        const mask = ids.length - 1;
        let { filter, added, k } = ctx;
        let positives = 0;
        for (let i = 0; i < n; i++) {
          const id = ids[k];
          k = (k + 1) & mask;
          if (filter.has(id)) {
            positives++;
          } else {
            filter.add(id);
            // A new filter once this one holds n ids: like a rotation, so it never saturates.
            if (++added === 10_000) {
              filter = BloomFilter.create(10_000, 0.01);
              added = 0;
            }
          }
        }
        ctx.filter = filter;
        ctx.added = added;
        ctx.k = k;
        ctx.ops += n;
        ctx.positives += positives;
      },
      check: freshCheck,
    },
    {
      name: HASH,
      setup: () => {
        // Sized as the default Deduplicator sizes each generation (bloom-filters' formulas).
        const bits = Math.ceil((-(N / SPANS) * Math.log(P / (SPANS + 1))) / Math.LN2 ** 2);
        const hashes = Math.ceil((bits / (N / SPANS)) * Math.LN2);
        return { hash: new DoubleHash(bits, hashes), ids, k: 0, total: 0 };
      },
      loop: (ctx, n) => {
        const { hash, ids } = ctx;
        const mask = ids.length - 1;
        let k = ctx.k;
        let total = 0;
        for (let i = 0; i < n; i++) {
          total += hash.compute(ids[k])[0];
          k = (k + 1) & mask;
        }
        ctx.k = k;
        ctx.total = total;
      },
    },
    {
      name: FRESH,
      setup: () => ({ dedup: new Deduplicator(), createEventId, now: Date.now(), ops: 0, positives: 0 }),
      loop: (ctx, n) => {
        const { dedup, createEventId } = ctx;
        let positives = 0;
        for (let i = 0; i < n; i++) if (dedup.checkAndMark(createEventId(ctx.now + (i >>> 10)))) positives++;
        ctx.now += (n >>> 10) + 1;
        ctx.ops += n;
        ctx.positives += positives;
      },
      check: freshCheck,
    },
    eventIdContender(ID_ALONE, createEventId),
    {
      name: TWO_STEP,
      setup: dedupCtx,
      loop: (ctx, n) => {
        const { dedup, ids } = ctx;
        const mask = ids.length - 1;
        let k = ctx.k;
        let positives = 0;
        for (let i = 0; i < n; i++) {
          const id = ids[k];
          if (dedup.isDuplicate(id)) positives++;
          else dedup.markSeen(id);
          k = (k + 1) & mask;
        }
        ctx.k = k;
        ctx.ops += n;
        ctx.positives += positives;
      },
      check: freshCheck,
    },
  ]);
  const dedup = row(rows, DEDUP);
  const bf = row(rows, PACKAGE);
  const hash = row(rows, HASH);
  const fresh = row(rows, FRESH);
  const idAlone = row(rows, ID_ALONE);
  const twoStep = row(rows, TWO_STEP);
  const freshNs = fresh.nsPerOp - idAlone.nsPerOp;
  findings.dedup = { checkNs: dedup.nsPerOp, twoStepNs: twoStep.nsPerOp, freshNs };

  // Memory: the Deduplicator's bit arrays against one optimal filter for n ids at p.
  const stats = new Deduplicator({ expectedEvents: N, falsePositiveRate: P }).stats();
  const optimalBits = (-N * Math.log(P)) / Math.LN2 ** 2;
  const memoryRatio = (stats.memoryBytes * 8) / optimalBits;
  const pkgFilter = BloomFilter.create(N, P);
  const pkgBytes = pkgFilter._filter?.array?.byteLength ?? Math.ceil(pkgFilter.size / 8);
  // Where 1.68 comes from: SPANS + 1 generations of n / SPANS ids, each at p / (SPANS + 1).
  const lnInvP = -Math.log(P);
  const windowFactor = (SPANS + 1) / SPANS;
  const splitFactor = (lnInvP + Math.log(SPANS + 1)) / lnInvP;
  const bySpans = [1, 2, 3, 4, 6, 8, 16].map((s) => ({
    s,
    ratio: ((s + 1) / s) * ((lnInvP + Math.log(s + 1)) / lnInvP),
  }));
  const best = bySpans.reduce((a, b) => (b.ratio < a.ratio ? b : a));

  // False positives on PROBES ids never added, outside any timed loop; the clock stands still,
  // so generations rotate only on size (each holds n / SPANS), as under steady traffic.
  const fp = (filled) => {
    const d = new Deduplicator({ expectedEvents: N, falsePositiveRate: P, clock: () => 0 });
    for (const id of flatIds(createEventId, filled)) d.markSeen(id);
    let positives = 0;
    for (const id of probeIds) if (d.isDuplicate(id)) positives++;
    return { rate: positives / PROBES, estimated: d.stats().estimatedFalsePositiveRate };
  };
  const fpAtN = fp(N);
  const fpAtWindow = fp(N + N / SPANS);
  const pkgFp = (() => {
    const f = BloomFilter.create(N, P);
    for (const id of flatIds(createEventId, N)) f.add(id);
    let positives = 0;
    for (const id of probeIds) if (f.has(id)) positives++;
    return positives / PROBES;
  })();

  let hashProfile = '';
  if (dedup.best < 2e6) {
    const entries = await profileLoop(
      { name: 'checkAndMark', setup: dedupCtx, loop: dedupLoop },
      { n: 10_000, lines: 5 },
    );
    hashProfile = `${formatProfile(entries)}; hottest lines: ${formatLines(entries.lines)}`;
  }

  const memoryDiagnosis =
    `one bloom filter for n = ${count(N)} at p = ${P} needs −n·ln p / (ln 2)² = ${count(Math.round(optimalBits))} bits ` +
    `(${(optimalBits / N).toFixed(2)} bits per id); the Deduplicator allocates ${stats.generations} generations of ` +
    `${count(Math.round((stats.memoryBytes * 8) / stats.generations))} bits = ${formatBytes(stats.memoryBytes)} ` +
    `(${stats.bitsPerEntry.toFixed(2)} bits per expected id). Two factors, both from remembering a sliding window: ` +
    `(1) ${formatRatio(windowFactor)} — ids are kept for windowMs to 1.25 × windowMs, so just before a rotation the ` +
    `${SPANS} closed generations plus the current one hold ${SPANS + 1}/${SPANS} of n; (2) ${formatRatio(splitFactor)} — a lookup probes all ` +
    `${SPANS + 1} generations and their false-positive rates add up, so each must reach p/${SPANS + 1}, which costs ` +
    `ln(${SPANS + 1}/p) / ln(1/p) as many bits per id. ${formatRatio(windowFactor)} × ${formatRatio(splitFactor)} = ` +
    `${formatRatio(windowFactor * splitFactor)}. With S spans the ratio is (S+1)/S × ln((S+1)/p)/ln(1/p): ` +
    `${bySpans.map((b) => `S=${b.s} ${b.ratio.toFixed(3)}`).join(', ')} — lowest ${best.ratio.toFixed(3)} at S=${best.s}, ` +
    `so no number of generations reaches 1.5× at p = ${P} (with S=${SPANS} it would take p ≤ ` +
    `${Math.exp(-Math.log(SPANS + 1) / (1.5 / windowFactor - 1)).toExponential(1)}). A single filter meets the optimum only because it ` +
    `never forgets; forgetting by time is what costs both factors.`;

  return {
    title: 'Deduplicator',
    summary: `fresh UUIDv7 ids; Deduplicator defaults (5 s window, n = ${count(N)}, p = ${P}) against bloom-filters ${pkgVersion()} BloomFilter.create(n, p) with its default hashing.`,
    description: [
      `\`Deduplicator.checkAndMark(id)\` (public build, defaults: windowMs 5000, expectedEvents ${count(N)},`,
      `falsePositiveRate ${P}) against the \`bloom-filters\` package's \`BloomFilter.create(${count(N)}, ${P})\`, untouched`,
      '(default xxhash-based hashing, imported from the package entry in the bench only): `has(id)`, then `add(id)`',
      `when new; it is replaced by a fresh filter every ${count(N)} adds so it never saturates (the cost of`,
      '`create` is inside the loop, amortized). Both loops cycle through the same',
      `${count(POOL)} distinct UUIDv7s from \`createEventId\` (flattened strings, few enough to stay in cache like an id`,
      `publish has just made); an id comes back only after ${count(POOL)} others, after both filters forgot it (the`,
      `Deduplicator keeps at most 1.25 × n = ${count(N + N / SPANS)} ids, the package filter is replaced every n adds), so every`,
      'lookup is of a fresh id: each loop counts its positives and fails the run above 2 %. Rows indented or marked',
      'as parts explain the first row: the hash alone (bundled from src/), the same check on ids straight from',
      '`createEventId` (not yet flattened, as publish hands them over), and the two-call form the gate uses with a limiter.',
    ].join(' '),
    tables: [{ rows, baseline: PACKAGE, ratioLabel: 'this ÷ bloom-filters', speedVsBaseline: true }],
    extra: [
      [
        '| memory for n = 10,000, p = 0.01 | bits | bytes | bits per id | ÷ optimum |',
        '| --- | ---: | ---: | ---: | ---: |',
        `| optimum, one filter: −n·ln p / (ln 2)² | ${count(Math.round(optimalBits))} | ${count(Math.ceil(optimalBits / 8))} | ${(optimalBits / N).toFixed(2)} | 1.00× |`,
        `| Deduplicator, \`stats().memoryBytes\` (${stats.generations} generations) | ${count(stats.memoryBytes * 8)} | ${count(stats.memoryBytes)} | ${((stats.memoryBytes * 8) / N).toFixed(2)} (\`stats().bitsPerEntry\` ${stats.bitsPerEntry.toFixed(2)}) | ${formatRatio(memoryRatio)} |`,
        `| bloom-filters BloomFilter.create(n, p) (its bit array) | ${count(pkgFilter.size)} | ${count(pkgBytes)} | ${((pkgBytes * 8) / N).toFixed(2)} | ${formatRatio((pkgBytes * 8) / optimalBits)} |`,
      ].join('\n'),
      [
        `| false positives on ${count(PROBES)} fresh ids (never added) | measured | estimated by the filter |`,
        '| --- | ---: | ---: |',
        `| Deduplicator after n = ${count(N)} ids | ${pct(fpAtN.rate)} | ${pct(fpAtN.estimated)} |`,
        `| Deduplicator after 1.25 × n = ${count(N + N / SPANS)} ids (all ${SPANS + 1} generations full: the most the window holds) | ${pct(fpAtWindow.rate)} | ${pct(fpAtWindow.estimated)} |`,
        `| bloom-filters after n = ${count(N)} ids | ${pct(pkgFp)} | — |`,
      ].join('\n'),
      `Per op: checkAndMark ${formatNs(dedup.nsPerOp)}, of which the hash ${formatNs(hash.nsPerOp)}` +
        (findings.breakdown
          ? ` and one clock read in #advance (Date.now() alone: ${formatNs(findings.breakdown.find((b) => b.name === CLOCK_READ).ns)}, "One exact-type subscriber")`
          : '') +
        `. On an id straight from createEventId the check costs ${formatNs(freshNs)} (row "${FRESH.split(':')[0]}" minus "createEventId alone"), ` +
        `${freshNs > dedup.nsPerOp ? `${formatNs(freshNs - dedup.nsPerOp)} more than on a flat string: the first read of a freshly concatenated id flattens it` : 'no more than on a flat string'}. ` +
        `isDuplicate + markSeen (one hash: markSeen reuses it; two clock reads, as no time is passed in) costs ${formatNs(twoStep.nsPerOp)}.`,
    ],
    targets: [
      target(
        'Deduplicator.checkAndMark on fresh ids ≥ 2,000,000 ops/s',
        dedup.best,
        '>=',
        2e6,
        `checkAndMark costs ${formatNs(dedup.nsPerOp)}, the hash alone ${formatNs(hash.nsPerOp)}. CPU profile, self time: ${hashProfile}.`,
        ' ops/s',
      ),
      target(
        'Deduplicator.checkAndMark ≥ 10× bloom-filters has + add (default hashing)',
        dedup.best / bf.best,
        '>=',
        10,
        `checkAndMark ${formatNs(dedup.nsPerOp)} against ${formatNs(bf.nsPerOp)} for the package.`,
      ),
      target(
        `Deduplicator memory (stats().memoryBytes) ≤ 1.5× the optimal bits for n = ${count(N)}, p = ${P}`,
        memoryRatio,
        '<=',
        1.5,
        memoryDiagnosis,
      ),
    ],
  };
}

/** The checkAndMark loop, for the profile of a MISS (same body as the first contender). */
function dedupLoop(ctx, n) {
  const { dedup, ids } = ctx;
  const mask = ids.length - 1;
  let k = ctx.k;
  for (let i = 0; i < n; i++) {
    dedup.checkAndMark(ids[k]);
    k = (k + 1) & mask;
  }
  ctx.k = k;
}

function pkgVersion() {
  const file = new URL('../../node_modules/bloom-filters/package.json', import.meta.url);
  return JSON.parse(readFileSync(file, 'utf8')).version;
}
