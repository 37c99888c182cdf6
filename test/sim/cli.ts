import { writeFileSync } from 'node:fs';
import {
  ALL_FAULTS,
  defaultConfig,
  type FaultFlags,
  INVARIANTS,
  type Invariant,
  NO_FAULTS,
} from './flags.js';
import { runSeed } from './run-seed.js';

const USAGE = `npm run sim -- --seeds N [--from S]          run N seeds from S (default 100 from 0), count violations per invariant
npm run sim -- --seed S [--all]                 replay one seed: its whole schedule, then its violations (--all: every one)
npm run sim -- --seeds N --invariant NAME       list each seed breaking NAME with its first violation
options: --faults none | all | feedLag,tailDrops,…   which store faults to inject (default all)
         --json FILE                                  also write { invariant: [seeds] } (to compare runs, see REVERTS.md)`;

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) return void console.log(USAGE);
  const option = (name: string): string | undefined => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const number = (name: string): number | undefined => {
    const text = option(name);
    if (text === undefined) return undefined;
    const n = Number(text);
    if (!Number.isInteger(n) || n < 0)
      throw new Error(`${name} expects a whole number, got ${text}\n${USAGE}`);
    return n;
  };
  const faults = parseFaults(option('--faults'));

  const one = number('--seed');
  if (one !== undefined) {
    const result = await runSeed(one, defaultConfig({ faults, trace: true }));
    console.log(result.trace.join('\n'));
    console.log(`\nseed ${one}: ${result.steps} steps, ${result.events} events stored`);
    const shown = args.includes('--all') ? result.violations : firstPerInvariant(result.violations);
    for (const v of shown) console.log(`VIOLATION ${v.invariant}: ${v.detail}`);
    if (result.violations.length === 0) console.log('no violations');
    process.exitCode = result.violations.length > 0 ? 1 : 0;
    return;
  }

  const n = number('--seeds') ?? 100;
  const from = number('--from') ?? 0;
  const only = option('--invariant') as Invariant | undefined;
  if (only !== undefined && !INVARIANTS.includes(only))
    throw new Error(`unknown invariant ${only}; one of: ${INVARIANTS.join(', ')}`);
  const counts = new Map<Invariant, number[]>();
  const started = performance.now();
  for (let seed = from; seed < from + n; seed++) {
    const result = await runSeed(seed, defaultConfig({ faults }));
    for (const invariant of result.broken) {
      const seeds = counts.get(invariant) ?? [];
      seeds.push(seed);
      counts.set(invariant, seeds);
    }
    if (only !== undefined && result.broken.has(only))
      console.log(`seed ${seed}: ${result.violations.find((v) => v.invariant === only)!.detail}`);
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  const json = option('--json');
  if (json !== undefined) writeFileSync(json, JSON.stringify(Object.fromEntries(counts)));
  console.log(`${n} seeds from ${from} in ${seconds} s; seeds violating each invariant:`);
  for (const invariant of INVARIANTS) {
    const seeds = counts.get(invariant) ?? [];
    const example = seeds.length ? `  e.g. --seed ${seeds[0]} (${seeds.slice(0, 5).join(', ')})` : '';
    console.log(`  ${invariant.padEnd(28)} ${String(seeds.length).padStart(5)}${example}`);
  }
  process.exitCode = counts.size > 0 ? 1 : 0;
}

function parseFaults(text: string | undefined): FaultFlags {
  if (text === undefined || text === 'all') return ALL_FAULTS;
  if (text === 'none') return NO_FAULTS;
  const faults = { ...NO_FAULTS };
  for (const name of text.split(',')) {
    if (!(name in faults))
      throw new Error(`unknown fault ${name}; one of: ${Object.keys(ALL_FAULTS).join(', ')}`);
    faults[name as keyof FaultFlags] = true;
  }
  return faults;
}

function firstPerInvariant<T extends { invariant: string }>(list: T[]): T[] {
  const seen = new Set<string>();
  return list.filter((v) => !seen.has(v.invariant) && seen.add(v.invariant));
}

await main();
