// The measuring machinery, kept apart from the scenarios so every scenario is measured the
// same way PERF-NOTES.md asks: each contender gets its own compiled loop, many iterations per
// ~5 ms chunk, contenders take turns chunk by chunk over several passes, and the best pass wins.

import { performance } from 'node:perf_hooks';

/** Defaults; `BENCH_QUICK=1` shrinks them for a smoke run of the suite. */
const QUICK = process.env.BENCH_QUICK === '1';
export const DEFAULTS = {
  /** Wall time of one chunk: long enough to dwarf timer overhead, short enough to interleave finely. */
  chunkMs: 5,
  /** Per contender, before any timed pass: JIT tiers up and the chunk size is calibrated. */
  warmupMs: QUICK ? 40 : 250,
  /** A pass = `rounds` turns of every contender; a contender's rate for the pass sums its chunks. */
  passes: QUICK ? 4 : 16,
  /** 3 chunks per pass (~15 ms): long enough that a pass includes its share of scavenges. */
  rounds: 3,
  /**
   * Extra passes, up to this many in all, while some contender's best still improved by more than
   * `settle` within the last `patience` passes: a slow phase (another process, GC threads) can
   * cover the first passes, and the best pass is only meaningful once it stops moving.
   */
  maxPasses: QUICK ? 4 : 48,
  patience: 8,
  settle: 0.02,
};

let compiled = 0;

/**
 * Recompiles `fn` from its source text with `new Function`, tagged with a unique comment so V8's
 * compilation cache cannot hand back a shared function. Closures created by one factory share
 * one feedback vector in V8, so "a fresh closure per contender" is not enough on its own: a call
 * site inside a shared literal would still go megamorphic. A recompiled function has its own
 * feedback, so the library call inside it stays monomorphic for its contender.
 * `fn` must not use free variables (imports, module constants): it gets everything from `ctx`.
 */
export function compileLoop(fn, tag) {
  const source = fn.toString();
  const label = String(tag).replace(/\*\//g, '* /');
  const factory = new Function(
    `'use strict';\nreturn (${source});\n/* contender #${++compiled}: ${label} */`,
  );
  return factory();
}

function now() {
  return performance.now();
}

/** Runs one chunk; awaits only loops that return a promise (async contenders). */
async function runChunk(c, n) {
  const t0 = now();
  const r = c.loop(c.ctx, n);
  if (r !== undefined && typeof r.then === 'function') await r;
  return now() - t0;
}

function roundUp(n, step) {
  return Math.max(step, Math.ceil(n / step) * step);
}

/** Finds the iteration count for a ~chunkMs chunk, and keeps running until warmupMs has passed. */
async function warmUp(c, opts) {
  const start = now();
  let n = c.step;
  for (;;) {
    const t = await runChunk(c, n);
    if (t >= opts.chunkMs / 4 || n >= 1e9) {
      n = roundUp((n * opts.chunkMs) / Math.max(t, 1e-3), c.step);
      break;
    }
    n = roundUp(n * 4, c.step);
  }
  // Keep going so optimized code is in place, then recalibrate on the warm code.
  let t = opts.chunkMs;
  while (now() - start < opts.warmupMs) t = await runChunk(c, n);
  c.n = roundUp((n * opts.chunkMs) / Math.max(t, 1e-3), c.step);
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * Measures a group of contenders against each other.
 * contender: { name, setup(): ctx | Promise<ctx>, loop(ctx, n), step = 1, opsPerIter = 1,
 *              check?(ctx): string | undefined (a failed sanity check), teardown?(ctx) }
 * Returns one row per contender: best and median ops/s over the passes, spread = best/median.
 */
export async function measure(contenders, options = {}) {
  const opts = { ...DEFAULTS, ...options };
  const cs = [];
  for (const spec of contenders) {
    const ctx = await spec.setup();
    cs.push({
      spec,
      name: spec.name,
      ctx,
      loop: compileLoop(spec.loop, spec.name),
      step: spec.step ?? 1,
      opsPerIter: spec.opsPerIter ?? 1,
      n: 0,
      rates: [],
    });
  }
  // One full GC after all setups and before the warm-up moves what they built to the old
  // generation, as in a long-running process. It matters: a trie whose Set is still young matched
  // `a.**.z` ~5x faster than the same trie once promoted. No GC between passes, for the same reason.
  globalThis.gc?.();
  for (const c of cs) await warmUp(c, opts);
  const improvedAt = new Array(cs.length).fill(0);
  const settled = (pass) => improvedAt.every((at) => pass - at >= opts.patience);
  for (let pass = 0; pass < opts.maxPasses && (pass < opts.passes || !settled(pass)); pass++) {
    const time = new Array(cs.length).fill(0);
    const ops = new Array(cs.length).fill(0);
    for (let round = 0; round < opts.rounds; round++) {
      // Rotate who goes first so no contender always follows the same neighbour's garbage.
      for (let k = 0; k < cs.length; k++) {
        const i = (k + pass + round) % cs.length;
        time[i] += await runChunk(cs[i], cs[i].n);
        ops[i] += cs[i].n * cs[i].opsPerIter;
      }
    }
    cs.forEach((c, i) => {
      const rate = (ops[i] / time[i]) * 1000;
      if (c.rates.length === 0 || rate > Math.max(...c.rates) * (1 + opts.settle)) improvedAt[i] = pass;
      c.rates.push(rate);
    });
  }
  const rows = [];
  for (const c of cs) {
    const problem = c.spec.check?.(c.ctx);
    if (problem) throw new Error(`Sanity check failed for "${c.name}": ${problem}`);
    await c.spec.teardown?.(c.ctx);
    const best = Math.max(...c.rates);
    const med = median(c.rates);
    rows.push({
      name: c.name,
      best,
      median: med,
      spread: best / med,
      nsPerOp: 1e9 / best,
      passes: c.rates.length,
    });
  }
  return rows;
}
