// A MISS must say where busline's time goes, measured rather than guessed. This samples a focused
// loop with the V8 CPU profiler (node:inspector, in-process) and reports the functions with the
// most self time, so every run of the suite re-derives its own diagnosis.

import { readFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { compileLoop } from './harness.mjs';

/**
 * Runs `spec.loop(ctx, n)` (recompiled like a contender) repeatedly for `ms` under the sampling
 * profiler and returns the top self-time entries: { name, where, share } with share in 0..1.
 */
export async function profileLoop(spec, { ms = 400, top = 6, n = spec.step ?? 1000, lines = 0 } = {}) {
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
    const entries = summarize(profile, top);
    if (lines > 0) entries.lines = hotLines(profile, lines);
    return entries;
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

/**
 * The source lines with the most samples (V8 records ticks per line for each function), with
 * the line's text, so a diagnosis can say which statement of an inlined-heavy function is hot.
 */
function hotLines(profile, top) {
  let total = 0;
  for (const node of profile.nodes) total += node.hitCount ?? 0;
  const byLine = new Map();
  for (const node of profile.nodes) {
    for (const tick of node.positionTicks ?? []) {
      const { functionName, url } = node.callFrame;
      const key = `${url}:${tick.line}`;
      const entry = byLine.get(key) ?? { name: functionName || '(anonymous)', url, line: tick.line, hits: 0 };
      entry.hits += tick.ticks;
      byLine.set(key, entry);
    }
  }
  const sources = new Map();
  const text = (url, line) => {
    if (!url.startsWith('file://')) return '';
    if (!sources.has(url)) {
      try {
        sources.set(url, readFileSync(fileURLToPath(url), 'utf8').split('\n'));
      } catch {
        sources.set(url, []);
      }
    }
    const source = (sources.get(url)[line - 1] ?? '').trim();
    return source.length > 70 ? `${source.slice(0, 69)}…` : source;
  };
  return [...byLine.values()]
    .filter((e) => e.url !== '')
    .sort((a, b) => b.hits - a.hits)
    .slice(0, top)
    .map((e) => ({
      name: e.name,
      where: `${path.basename(e.url.replace(/^file:\/\//, ''))}:${e.line}`,
      text: text(e.url, e.line),
      share: e.hits / total,
    }));
}

/**
 * "index.js:1543 `const existing = this.#ids.get(event.id);` 10 %, …" (no function name: a line
 * of an inlined function is reported under the function it was inlined into).
 */
export function formatLines(lines) {
  return lines
    .map((e) => `${e.where} \`${e.text.replace(/`/g, "'")}\` ${(100 * e.share).toFixed(0)} %`)
    .join(', ');
}

/** "envelopeBytes 31 %, (garbage collector) 18 %, …" */
export function formatProfile(entries) {
  return entries
    .map((e) => `${e.name}${e.where ? ` (${e.where})` : ''} ${(100 * e.share).toFixed(0)} %`)
    .join(', ');
}
