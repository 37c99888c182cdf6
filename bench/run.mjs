// Entry point of `npm run bench`: loads the built busline and the bundled internals, runs every
// scenario in turn (printing each table as it finishes), then writes docs/benchmarks.md.
// BENCH_ONLY=exact,churn runs a subset (and does not touch the doc); BENCH_QUICK=1 shortens passes.

import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { DEFAULTS } from './harness.mjs';
import { loadInternals } from './internals.mjs';
import { peerVersions } from './peers.mjs';
import { printSection, renderMarkdown } from './report.mjs';

const SCENARIOS = [
  'exact',
  'wildcard',
  'scale',
  'churn',
  'async-iteration',
  'batch',
  'store',
  'dedup',
  'limiter',
  'memory',
  'bundle-size',
  'telemetry',
  'sse-fanout',
  'redis',
  'redis-groups',
];

if (typeof globalThis.gc !== 'function') {
  console.error(
    'Run with node --expose-gc (npm run bench does): the memory scenario and the passes need gc().',
  );
  process.exit(1);
}

const started = performance.now();
const loadAtStart = os.loadavg()[0];
const busline = await import('../dist/index.js');
const internals = await loadInternals();
const only = process.env.BENCH_ONLY?.split(',').map((s) => s.trim());
const selected = only ? SCENARIOS.filter((s) => only.includes(s)) : SCENARIOS;
const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
let commit = 'unknown commit';
try {
  commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], { encoding: 'utf8' }).trim();
  if (dirty) commit += ' plus uncommitted changes in src/';
} catch {
  // not a git checkout: the report says so
}

console.log(
  `busline ${pkg.version} (${commit}), Node ${process.version}; peers: ${peerVersions().join(', ')}`,
);

/** Measurements one scenario shares with later ones (the publish breakdown feeds their diagnoses). */
const findings = {};
const sections = [];
for (const name of selected) {
  const scenario = await import(`./scenarios/${name}.mjs`);
  const result = await scenario.run({ busline, internals, findings });
  for (const section of Array.isArray(result) ? result : [result]) {
    printSection(section);
    sections.push(section);
  }
}

const targets = sections.flatMap((s) => (s.targets ?? []).map((t) => ({ ...t, scenario: s.title })));
console.log('\n=== Targets ===');
for (const t of targets) {
  console.log(
    `${t.pass ? 'PASS' : 'MISS'}  ${t.scenario} — ${t.text}: ${t.shown} (target ${t.cmp} ${t.wanted})`,
  );
}

const seconds = (performance.now() - started) / 1000;
if (only || process.env.BENCH_QUICK === '1') {
  console.log(`\n(partial or quick run: docs/benchmarks.md left as it was) ${seconds.toFixed(0)} s`);
} else {
  const markdown = renderMarkdown(sections, {
    date: new Date().toISOString().slice(0, 10),
    version: pkg.version,
    commit,
    seconds,
    harness: DEFAULTS,
    peers: peerVersions(),
    load: `1-min load average ${loadAtStart.toFixed(2)} at start, ${os.loadavg()[0].toFixed(2)} at the end${cpuPressure()}`,
  });
  writeFileSync(new URL('../docs/benchmarks.md', import.meta.url), markdown);
  console.log(`\nWrote docs/benchmarks.md in ${seconds.toFixed(0)} s`);
}

/** Share of time runnable tasks waited for a CPU over the last 5 minutes (Linux PSI), if available. */
function cpuPressure() {
  try {
    const some = readFileSync('/proc/pressure/cpu', 'utf8').match(/^some .*avg300=([\d.]+)/m);
    return some ? `; CPU pressure (PSI some, 5 min) ${some[1]} %` : '';
  } catch {
    return '';
  }
}
