/**
 * The portable suite's own tiny test harness: `test(name, fn)` and a few assertions, using
 * nothing but the language and web-standard timers, so one bundle runs unchanged in Chromium,
 * Bun, Deno and workerd (vitest needs Node). The runtime's report goes back to a vitest file
 * in test/runtimes, which fails on any failure and on a report missing a registered test.
 */

export interface TestOutcome {
  name: string;
  ok: boolean;
  /** `ErrorName: message` of the failure. */
  error?: string;
  ms: number;
}

export interface SuiteReport {
  runtime: string;
  /** Tests registered in this runtime (a bundle that lost a module registers fewer). */
  registered: string[];
  outcomes: TestOutcome[];
}

type TestFn = () => void | Promise<void>;

const tests: { name: string; fn: TestFn }[] = [];

/** A test that hangs fails after this long instead of stalling the whole runtime run. */
const TEST_TIMEOUT_MS = 5000;

export function test(name: string, fn: TestFn): void {
  if (tests.some((t) => t.name === name)) throw new Error(`Duplicate portable test name: ${name}`);
  tests.push({ name, fn });
}

export function registeredTests(): string[] {
  return tests.map((t) => t.name);
}

/** Runs every registered test in order, one at a time. Never throws: failures are outcomes. */
export async function runTests(runtime: string): Promise<SuiteReport> {
  const outcomes: TestOutcome[] = [];
  for (const { name, fn } of tests) {
    const started = Date.now();
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${TEST_TIMEOUT_MS} ms`)), TEST_TIMEOUT_MS);
      });
      await Promise.race([Promise.resolve().then(fn), timeout]);
      outcomes.push({ name, ok: true, ms: Date.now() - started });
    } catch (error) {
      const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      outcomes.push({ name, ok: false, error: text, ms: Date.now() - started });
    } finally {
      clearTimeout(timer);
    }
  }
  return { runtime, registered: registeredTests(), outcomes };
}

export class AssertionError extends Error {
  override name = 'AssertionError';
}

const show = (value: unknown): string => {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
};

export function ok(value: unknown, message: string): asserts value {
  if (!value) throw new AssertionError(message);
}

/** `Object.is` equality. */
export function equal<T>(actual: T, expected: T, message = ''): void {
  if (!Object.is(actual, expected)) {
    throw new AssertionError(
      `${message ? `${message}: ` : ''}expected ${show(expected)}, got ${show(actual)}`,
    );
  }
}

/** Equality of JSON-shaped values (plain objects, arrays, primitives), key order ignored. */
export function deepEqual(actual: unknown, expected: unknown, message = ''): void {
  const canonical = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(canonical);
    if (value !== null && typeof value === 'object') {
      return Object.fromEntries(
        Object.keys(value)
          .sort()
          .map((k) => [k, canonical((value as Record<string, unknown>)[k])]),
      );
    }
    return value;
  };
  const [a, e] = [show(canonical(actual)), show(canonical(expected))];
  if (a !== e) throw new AssertionError(`${message ? `${message}: ` : ''}expected ${e}, got ${a}`);
}

/** That `fn` throws or rejects with an error whose `code` is `code` (busline's typed errors). */
export async function failsWith(fn: () => unknown, code: string, message = ''): Promise<unknown> {
  let caught: unknown;
  try {
    await fn();
  } catch (error) {
    caught = error;
  }
  const got = (caught as { code?: unknown } | undefined)?.code;
  if (got !== code) {
    const what =
      caught === undefined
        ? 'no error'
        : `${(caught as Error).name} ${show(got)}: ${(caught as Error).message}`;
    throw new AssertionError(
      `${message ? `${message}: ` : ''}expected an error with code ${code}, got ${what}`,
    );
  }
  return caught;
}

/** A clock the test moves by hand (busline takes `clock` options), so no test waits on real time. */
export function manualClock(start = 1_700_000_000_000): { now: () => number; advance: (ms: number) => void } {
  let time = start;
  return { now: () => time, advance: (ms) => void (time += ms) };
}

/** Prefixes the report line a command-line runtime prints, so other output cannot be mistaken for it. */
export const REPORT_MARKER = 'BUSLINE_PORTABLE_REPORT ';
