// The property every public function and constructor must hold: any value for any argument or
// option gives a result or a BuslineError; one bad value among valid ones gives an error that
// names it; nothing hangs, nothing pollutes a prototype.
import fc from 'fast-check';
import type { BuslineError } from '../../../src/index.js';
import { anyValue, expectNoLateFailures, expectNoPollution, mentions, outcomeOf } from '../hostile.js';

/**
 * How an export is covered: fuzzed (one property run per member: `constructor`, a method…), or
 * listed with the reason it is not.
 */
export type SurfaceCase =
  | { fuzz: Record<string, () => Promise<void>> }
  | { notCallable: string }
  | { excluded: string };

export interface InputFuzz {
  /** The argument or option names; each gets any value (`anyValue`) unless `arbitraries` says otherwise. */
  inputs: readonly string[];
  /** Valid values the one-at-a-time runs keep for the other inputs (absent: undefined). */
  valid?: Record<string, unknown>;
  /** Values to try for an input instead of `anyValue` (e.g. arrays of hostile events). */
  arbitraries?: Record<string, fc.Arbitrary<unknown>>;
  /** Other words a message may name an input by (its nested options, `events[3]`…). */
  aliases?: Record<string, readonly string[]>;
  /** Inputs holding patterns: a bad one may fail as INVALID_PATTERN, which names the pattern itself. */
  patternInputs?: readonly string[];
  /** Codes that are a documented result of valid input here (EVENT_TOO_LARGE under a small limit). */
  outcomes?: readonly string[];
  /** Calls the code under test with the values (an options object gets junk keys too: pass it whole). */
  call: (values: Record<string, unknown>) => unknown;
  /** What the call made, to release after each run. */
  after?: () => unknown;
  /** The call may legitimately wait (a `take` on an empty bucket): pending is not a hang. */
  mayPend?: boolean;
  waitMs?: number;
  numRuns?: number;
}

/** Codes that say "this input is bad": an error with one of them must name the input. */
const INPUT_CODES = new Set(['INVALID_OPTION', 'INVALID_EVENT', 'INVALID_PATTERN', 'EVENT_TOO_LARGE']);

/** Keys nobody documents, the polluting ones first: they must change nothing. */
const junkKeys = fc.record(
  { proto: anyValue, constructor: fc.object({ maxDepth: 1 }), prototype: anyValue, unknownOption: anyValue },
  { requiredKeys: [] },
);

function withJunk(values: Record<string, unknown>, junk: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...values };
  for (const [key, value] of Object.entries(junk)) {
    // An own `__proto__` key, as JSON.parse makes it (assignment would set the prototype instead).
    Object.defineProperty(out, key === 'proto' ? '__proto__' : key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

/**
 * Two properties: every input hostile at once (a result or a BuslineError), then one hostile
 * input among valid ones (the same, and a BuslineError with an input code must name it).
 */
export async function fuzzInputs(spec: InputFuzz): Promise<void> {
  const numRuns = spec.numRuns ?? 100;
  const arbitraryOf = (name: string) => spec.arbitraries?.[name] ?? anyValue;
  const record = Object.fromEntries(spec.inputs.map((name) => [name, arbitraryOf(name)]));
  await fc.assert(
    fc.asyncProperty(fc.record(record, { requiredKeys: [] }), junkKeys, async (values, junk) => {
      await run(spec, withJunk(values, junk));
    }),
    { numRuns },
  );
  const oneBad = fc
    .constantFrom(...spec.inputs)
    .chain((name) => fc.tuple(fc.constant(name), arbitraryOf(name), junkKeys));
  await fc.assert(
    fc.asyncProperty(oneBad, async ([name, value, junk]) => {
      const error = await run(spec, withJunk({ ...spec.valid, [name]: value }, junk));
      if (error === undefined || !INPUT_CODES.has(error.code) || spec.outcomes?.includes(error.code)) return;
      if (error.code === 'INVALID_PATTERN' && spec.patternInputs?.includes(name)) return;
      const names = [name, ...(spec.aliases?.[name] ?? [])];
      if (!names.some((n) => mentions(error.message, n))) {
        throw new Error(`${error.code} for a bad \`${name}\` does not name it: ${error.message}`);
      }
    }),
    { numRuns },
  );
}

async function run(spec: InputFuzz, values: Record<string, unknown>): Promise<BuslineError | undefined> {
  try {
    return await outcomeOf(() => spec.call(values), { mayPend: spec.mayPend, waitMs: spec.waitMs });
  } finally {
    await spec.after?.();
    expectNoPollution();
    expectNoLateFailures();
  }
}
