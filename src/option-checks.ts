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
