// Entry point of `npm run bench`: runs every scenario in turn, each in a process of its own
// (printing each table as it finishes), then writes docs/benchmarks.md.
// BENCH_ONLY=exact,churn runs a subset (and does not touch the doc, unless BENCH_UPDATE=1: then
// its sections replace theirs in the doc, which says so); BENCH_QUICK=1 shortens passes.
//
// A process per scenario: run one after another in one process, the scenarios left busline's
// shared code trained on every bus shape they made (many patterns, churn, other stores), and a
// later scenario measured that: the for-await loop cost 416 ns after the wildcard, scale and
// churn scenarios against 279 ns after the exact one alone, same build, same sitting. An app
// runs its own few configurations, and the peers' code saw only their own contenders.

import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deserialize, serialize } from 'node:v8';
import { DEFAULTS } from './harness.mjs';
import { buildInternals, importInternals } from './internals.mjs';
import { peerVersions } from './peers.mjs';
import { printSection, renderMarkdown, replaceSections } from './report.mjs';

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
  'groups',
  'redis',
  'redis-publishers',
  'redis-groups',
];

if (typeof globalThis.gc !== 'function') {
  console.error(
    'Run with node --expose-gc (npm run bench does): the memory scenario and the passes need gc().',
  );
  process.exit(1);
}

// A child: runs the one scenario it was given, with the findings of the ones before it.
if (process.env.BENCH_SCENARIO !== undefined) {
  const { BENCH_SCENARIO: name, BENCH_EXCHANGE: exchange } = process.env;
  const busline = await import('../dist/index.js');
  const internals = await importInternals();
  const findings = deserialize(readFileSync(exchange));
  const scenario = await import(`./scenarios/${name}.mjs`);
  const result = await scenario.run({ busline, internals, findings });
  const sections = Array.isArray(result) ? result : [result];
  for (const section of sections) printSection(section);
  writeFileSync(exchange, serialize({ sections, findings }));
  process.exit(0);
}

const started = performance.now();
const loadAtStart = os.loadavg()[0];
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
let findings = {};
const sections = [];
// Bundled once here; each scenario's process imports the same build.
await buildInternals();
const exchangeDir = mkdtempSync(join(os.tmpdir(), 'busline-bench-'));
try {
  for (const name of selected) {
    // The findings go in and come back with the scenario's sections through one file.
    const exchange = join(exchangeDir, `${name}.bin`);
    writeFileSync(exchange, serialize(findings));
    const child = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url)], {
      env: { ...process.env, BENCH_SCENARIO: name, BENCH_EXCHANGE: exchange },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    if (child.status !== 0) throw new Error(`scenario ${name} failed (exit ${child.status ?? child.signal})`);
    const out = deserialize(readFileSync(exchange));
    findings = out.findings;
    sections.push(...out.sections);
  }
} finally {
  rmSync(exchangeDir, { recursive: true, force: true });
}

const targets = sections.flatMap((s) => (s.targets ?? []).map((t) => ({ ...t, scenario: s.title })));
console.log('\n=== Targets ===');
for (const t of targets) {
  console.log(
    `${t.pass ? 'PASS' : 'MISS'}  ${t.scenario} — ${t.text}: ${t.shown} (target ${t.cmp} ${t.wanted})`,
  );
}

const seconds = (performance.now() - started) / 1000;
const doc = new URL('../docs/benchmarks.md', import.meta.url);
if (process.env.BENCH_QUICK === '1' || (only && process.env.BENCH_UPDATE !== '1')) {
  console.log(`\n(partial or quick run: docs/benchmarks.md left as it was) ${seconds.toFixed(0)} s`);
} else if (only) {
  const date = new Date().toISOString().slice(0, 10);
  const note = `${date}, dist/ built from ${commit}, 1-min load average ${os.loadavg()[0].toFixed(2)}${cpuPressure()}`;
  writeFileSync(doc, replaceSections(readFileSync(doc, 'utf8'), sections, note));
  console.log(`\nReplaced ${selected.join(', ')} in docs/benchmarks.md in ${seconds.toFixed(0)} s`);
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
  writeFileSync(doc, markdown);
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
