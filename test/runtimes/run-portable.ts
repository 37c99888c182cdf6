/**
 * What every runtime test in this folder shares: bundling an entry of the portable suite
 * (against the built package, so `npx tsup` first), running a command-line runtime that prints
 * a report, and checking a report against the tests registered here in Node.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build, type Platform } from 'esbuild';
import { expect } from 'vitest';
import { repoRoot } from '../support/runtimes.js';
import { REPORT_MARKER, type SuiteReport } from './portable/harness.js';

const here = join(repoRoot, 'test/runtimes');

/**
 * One ESM bundle of `entry` (relative to test/runtimes). `browser` proves the code reaches no
 * Node built-in: esbuild fails to resolve one. `node` keeps built-ins external (the Redis client
 * needs them) and gives the bundle a `require` for the CommonJS it inlines.
 */
export async function bundle(entry: string, platform: Platform): Promise<string> {
  const result = await build({
    entryPoints: [join(here, entry)],
    bundle: true,
    format: 'esm',
    platform,
    target: 'es2022',
    write: false,
    logLevel: 'silent',
    banner:
      platform === 'node'
        ? {
            js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
          }
        : undefined,
  });
  return result.outputFiles[0]!.text;
}

/** Writes `code` to a fresh temporary directory; the returned `remove` deletes it. */
export function writeTemporary(name: string, code: string): { path: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'busline-runtime-'));
  const path = join(dir, name);
  writeFileSync(path, code);
  return { path, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Runs a command that prints a marked report line; rejects with its output if there is none. */
export function runForReport(
  command: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
): Promise<SuiteReport> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      const line = stdout.split('\n').find((l) => l.startsWith(REPORT_MARKER));
      if (line === undefined) {
        reject(
          new Error(
            `${command} exited with ${code} and printed no report.\nstdout: ${stdout}\nstderr: ${stderr}`,
          ),
        );
        return;
      }
      resolve(JSON.parse(line.slice(REPORT_MARKER.length)) as SuiteReport);
    });
  });
}

/**
 * The report passes when the runtime is the one meant, it ran exactly the tests registered
 * here (an empty, crashed or partial run fails), and every one of them passed.
 */
export function expectAllPassed(report: SuiteReport, expected: readonly string[], runtime: RegExp): void {
  expect(report.runtime).toMatch(runtime);
  expect(expected.length).toBeGreaterThan(0);
  expect(report.registered).toEqual(expected);
  expect(report.outcomes.map((o) => o.name)).toEqual(expected);
  const failures = report.outcomes.filter((o) => !o.ok).map((o) => `${o.name}: ${o.error}`);
  expect(failures).toEqual([]);
}
