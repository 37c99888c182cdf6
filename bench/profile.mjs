// A MISS must say where busline's time goes, measured rather than guessed. This samples a focused
// loop with the V8 CPU profiler (node:inspector, in-process) and reports the functions with the
// most self time, so every run of the suite re-derives its own diagnosis.

import { Session } from 'node:inspector/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { compileLoop } from './harness.mjs';

/**
 * Runs `spec.loop(ctx, n)` (recompiled like a contender) repeatedly for `ms` under the sampling
 * profiler and returns the top self-time entries: { name, where, share } with share in 0..1.
 */
export async function profileLoop(spec, { ms = 400, top = 6, n = spec.step ?? 1000 } = {}) {
  const ctx = await spec.setup();
  const loop = compileLoop(spec.loop, `profile ${spec.name}`);
  const warmEnd = performance.now() + 100;
  while (performance.now() < warmEnd) await loop(ctx, n);
  const session = new Session();
  session.connect();
  try {
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 100 });
    await session.post('Profiler.start');
    const end = performance.now() + ms;
    while (performance.now() < end) await loop(ctx, n);
    const { profile } = await session.post('Profiler.stop');
    return summarize(profile, top);
  } finally {
    session.disconnect();
    await spec.teardown?.(ctx);
  }
}

function summarize(profile, top) {
  const byName = new Map();
  let total = 0;
  for (const node of profile.nodes) {
    const hits = node.hitCount ?? 0;
    if (hits === 0) continue;
    total += hits;
    const { functionName, url, lineNumber } = node.callFrame;
    const file = url ? path.basename(url.replace(/^file:\/\//, '')) : '';
    const name = functionName || '(anonymous)';
    const key = `${name}@${file}`;
    const entry = byName.get(key) ?? { name, where: file ? `${file}:${lineNumber + 1}` : '', hits: 0 };
    entry.hits += hits;
    byName.set(key, entry);
  }
  return [...byName.values()]
    .sort((a, b) => b.hits - a.hits)
    .slice(0, top)
    .map((e) => ({ name: e.name, where: e.where, share: e.hits / total }));
}

/** "envelopeBytes 31 %, (garbage collector) 18 %, …" */
export function formatProfile(entries) {
  return entries
    .map((e) => `${e.name}${e.where ? ` (${e.where})` : ''} ${(100 * e.share).toFixed(0)} %`)
    .join(', ');
}
