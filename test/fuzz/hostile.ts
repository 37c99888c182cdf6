// Hostile values and the outcome checks shared by the fuzz tests (entry points, public surface).
import fc from 'fast-check';
import { expect } from 'vitest';
import { BuslineError } from '../../src/index.js';

/** Strings of every kind: random code units (lone surrogates, controls), keys that pollute, huge ones. */
export const hostileString = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.constantFrom(
    '__proto__',
    'constructor',
    'prototype',
    '',
    '.',
    '..',
    '*',
    '**',
    '#',
    '>',
    'a..b',
    'task*',
  ),
  fc.nat({ max: 400 }).map((n) => 'x'.repeat(n)),
);

/** Any value a JSON body or a query string could turn into. */
export const hostileValue = fc.oneof(
  hostileString,
  fc.double(),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.array(hostileString, { maxLength: 4 }),
  fc.object({ maxDepth: 2 }),
);

/** Numbers at the edges of every check: zero, negatives, fractions, non-finite, past 2^31 and 2^53. */
const edgeNumber = fc.constantFrom(
  0,
  -0,
  -1,
  0.5,
  1.5,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  2 ** 31,
  Number.MAX_SAFE_INTEGER + 2,
  1e21,
);

/** Values no JSON body produces but any caller can pass: BigInt, Symbol, prototype-less and boxed objects. */
const exoticValue = fc.oneof(
  fc.bigInt(),
  fc.constant(Symbol('hostile')),
  fc.constant(Object.create(null) as object),
  fc.constant(Object.freeze(new String('task.created')) as object),
  fc.constant(new Date(Number.NaN)),
  fc.constant(new Map([['a', 1]])),
);

/** Anything a JavaScript caller can pass as an argument or an option value. */
export const anyValue = fc.oneof(
  { weight: 4, arbitrary: hostileValue },
  { weight: 1, arbitrary: edgeNumber },
  { weight: 1, arbitrary: exoticValue },
);

/** Runs `act`; passes if it returns (or resolves), or throws (rejects) a BuslineError. */
export async function typedOrFine(act: () => unknown): Promise<void> {
  try {
    await act();
  } catch (error) {
    if (!(error instanceof BuslineError))
      throw new Error(`untyped failure: ${String(error)}`, { cause: error });
    expect(error.code).toMatch(/^[A-Z_]+$/);
  }
}

/** Untyped rejections of calls that were allowed to go on waiting (see `outcomeOf`). */
const lateFailures: unknown[] = [];

/** Fails if a call left waiting by `outcomeOf` later rejected with something other than a BuslineError. */
export function expectNoLateFailures(): void {
  const failures = lateFailures.splice(0);
  if (failures.length > 0) throw new Error(`untyped late failure: ${describeError(failures[0])}`);
}

export interface OutcomeOptions {
  /** How long a returned promise may take to settle (generous: a loaded CI machine). @default 2000 */
  waitMs?: number;
  /** The call may legitimately wait longer (a `take` on an empty bucket, a `once`): pending is fine. */
  mayPend?: boolean;
}

/**
 * Runs `act` and returns the BuslineError it threw or rejected with, or undefined when it
 * returned or resolved (or, with `mayPend`, is still waiting). Anything else fails the test: an
 * error that is not a BuslineError, or a promise that has not settled within `waitMs`.
 */
export async function outcomeOf(
  act: () => unknown,
  { waitMs = 2000, mayPend = false }: OutcomeOptions = {},
): Promise<BuslineError | undefined> {
  let result: unknown;
  try {
    result = act();
  } catch (error) {
    return typed(error);
  }
  if (!isThenable(result)) return undefined;
  const pending = Symbol('pending');
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const settled = await Promise.race([
      result,
      new Promise((resolve) => {
        timer = setTimeout(() => resolve(pending), waitMs);
      }),
    ]);
    if (settled !== pending) return undefined;
    if (!mayPend) throw new Error(`hang: the call did not settle within ${waitMs} ms`);
    Promise.resolve(result).catch((error: unknown) => {
      if (!(error instanceof BuslineError)) lateFailures.push(error);
    });
    return undefined;
  } catch (error) {
    if (error instanceof Error && error.message.startsWith('hang:')) throw error;
    return typed(error);
  } finally {
    clearTimeout(timer);
  }
}

function typed(error: unknown): BuslineError {
  if (!(error instanceof BuslineError)) {
    throw new Error(`untyped failure: ${describeError(error)}`, { cause: error });
  }
  expect(error.code).toMatch(/^[A-Z_]+$/);
  expect(error.name).toBe(error.constructor.name);
  // With Redis up, a store failure caused by a TypeError is busline calling what is not there
  // (a `client` it should have refused): still a TypeError from deep inside, only wrapped.
  if (
    error.code === 'STORE_UNAVAILABLE' &&
    (error.cause instanceof TypeError || error.cause instanceof RangeError)
  ) {
    throw new Error(`untyped failure wrapped in ${error.code}: ${describeError(error.cause)}`, {
      cause: error,
    });
  }
  return error;
}

function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/** Resolves with `promise`'s result, or undefined after `ms`: a subscription or a tail waits for events by design. */
export function soon<T>(promise: Promise<T>, ms = 10): Promise<T | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const later = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  return Promise.race([promise, later]).finally(() => clearTimeout(timer));
}

/** Whether `message` names `name` as a word (`n` in "Expected n to be", not in "an"). */
export function mentions(message: string, name: string): boolean {
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(^|[^A-Za-z0-9_])${escaped}($|[^A-Za-z0-9_])`).test(message);
}

const PROTOTYPES = [Object.prototype, Array.prototype, Function.prototype, String.prototype];
const CLEAN = PROTOTYPES.map((proto) => Object.getOwnPropertyNames(proto).sort().join());

/** Fails if anything added a property to a built-in prototype (a `__proto__` key assigned somewhere). */
export function expectNoPollution(): void {
  PROTOTYPES.forEach((proto, i) => {
    expect(Object.getOwnPropertyNames(proto).sort().join(), 'a built-in prototype was polluted').toBe(
      CLEAN[i],
    );
  });
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
}
