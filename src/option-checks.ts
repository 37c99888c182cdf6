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
