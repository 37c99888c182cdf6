// A/B of the publish hot path against another revision, in one run: builds `<rev>` in a
// temporary git worktree (this checkout's node_modules, tsup), then times both builds'
// publish loops interleaved chunk by chunk (harness.mjs), so a machine that speeds up or
// slows down mid-run moves both alike. Every change to the hot path is measured this way
// before it lands (issue #18, item 8); docs/benchmarks.md quotes the results.
//
//   npm run build && node --expose-gc bench/ab.mjs <before> [<after>]
//   <before>, <after>: git revisions (HEAD~3, a commit, a tag); <after> defaults to this checkout.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { measure } from './harness.mjs';
import { BATCH, batchedPublish, delivered } from './scenarios/shared.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const [rev, afterRev] = process.argv.slice(2);
if (!rev) {
  console.error('usage: node --expose-gc bench/ab.mjs <before revision> [<after revision>]');
  process.exit(1);
}
if (!existsSync(join(ROOT, 'dist/index.js'))) {
  console.error('Build this checkout first: npm run build');
  process.exit(1);
}

const DATA = { jobId: 42, name: 'render', attempts: 1 };
/** The publish shapes whose cost matters most: an exact type, a wildcard, with dedup on. */
const CASES = [
  { label: 'exact type, pure', pattern: 'job.created', options: { store: null, dedup: false } },
  { label: 'job.*, pure', pattern: 'job.*', options: { store: null, dedup: false } },
  { label: 'exact type, default (memory store + dedup)', pattern: 'job.created', options: {} },
];

const dir = mkdtempSync(join(tmpdir(), 'busline-ab-'));
const trees = [];

/** Builds `revision` in a worktree of its own; returns its dist/index.js. */
async function build(revision, name) {
  const tree = join(dir, name);
  execFileSync('git', ['worktree', 'add', '--detach', tree, revision], { cwd: ROOT, stdio: 'ignore' });
  trees.push(tree);
  symlinkSync(join(ROOT, 'node_modules'), join(tree, 'node_modules'));
  execFileSync('npx', ['tsup', '--silent'], { cwd: tree, stdio: 'inherit' });
  return import(join(tree, 'dist/index.js'));
}

try {
  const before = await build(rev, 'before');
  const after = afterRev ? await build(afterRev, 'after') : await import(join(ROOT, 'dist/index.js'));
  console.log(
    `A/B: ${rev} (before) against ${afterRev ?? 'this checkout'} (after); ns per publish, best pass of each\n`,
  );
  for (const { label, pattern, options } of CASES) {
    const contender = (name, { EventBus }) => ({
      name,
      step: BATCH,
      loop: batchedPublish,
      check: delivered,
      setup() {
        const bus = new EventBus(options);
        const ctx = { bus, event: { type: 'job.created', data: DATA }, ps: new Array(BATCH), count: 0 };
        bus.on(pattern, () => {
          ctx.count++;
        });
        return ctx;
      },
    });
    const [a, b] = await measure([contender('before', before), contender('after', after)]);
    const change = (b.nsPerOp / a.nsPerOp - 1) * 100;
    console.log(
      `${label.padEnd(44)} before ${a.nsPerOp.toFixed(0).padStart(4)} ns  after ${b.nsPerOp.toFixed(0).padStart(4)} ns  ` +
        `${change >= 0 ? '+' : ''}${change.toFixed(1)} %  (spread ${a.spread.toFixed(2)} / ${b.spread.toFixed(2)})`,
    );
  }
} finally {
  for (const tree of trees)
    execFileSync('git', ['worktree', 'remove', '--force', tree], { cwd: ROOT, stdio: 'ignore' });
  rmSync(dir, { recursive: true, force: true });
}
