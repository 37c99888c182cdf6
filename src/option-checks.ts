import { InvalidOptionError } from './errors.js';
import { describe } from './event.js';

/** Returns `value` (or `fallback` when undefined) after checking it is an integer ≥ 1. */
export function positiveInteger(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new InvalidOptionError(`Expected \`${name}\` to be an integer ≥ 1, got ${describe(value)}`);
  }
  return value;
}

/** Returns `value` after checking it is a function or undefined (an optional callback option). */
export function optionalFunction<T>(name: string, value: T | undefined): T | undefined {
  if (value !== undefined && typeof value !== 'function') {
    throw new InvalidOptionError(`Expected \`${name}\` to be a function, got ${describe(value)}`);
  }
  return value;
}

/**
 * Accepts any AbortSignal-shaped object (`aborted`, `addEventListener`), so signals from
 * polyfills or other realms work: `instanceof AbortSignal` would reject them.
 */
export function checkSignal(signal: unknown): AbortSignal | undefined {
  if (signal === undefined) return undefined;
  const candidate = signal as Partial<AbortSignal> | null;
  if (
    candidate === null ||
    typeof candidate !== 'object' ||
    typeof candidate.aborted !== 'boolean' ||
    typeof candidate.addEventListener !== 'function'
  ) {
    throw new InvalidOptionError(`Expected \`signal\` to be an AbortSignal, got ${describe(signal)}`);
  }
  return signal as AbortSignal;
}

/** Returns `options` (`{}` when undefined) after checking it is an object, so reading a key cannot throw. */
export function optionsObject<T extends object>(what: string, options: T | undefined): T {
  if (options === undefined) return {} as T;
  if (options === null || typeof options !== 'object') {
    throw new InvalidOptionError(`Expected ${what} options to be an object, got ${describe(options)}`);
  }
  return options;
}

/**
 * Returns `now` after checking it is a number and not NaN: arithmetic on a BigInt, Symbol or
 * object throws a TypeError, and a NaN time would silently stop every later expiry or rotation.
 */
export function checkTime(name: string, now: unknown): number {
  if (typeof now !== 'number' || Number.isNaN(now)) {
    throw new InvalidOptionError(`Expected \`${name}\` to be epoch milliseconds, got ${describe(now)}`);
  }
  return now;
}
