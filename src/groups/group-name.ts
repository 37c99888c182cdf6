/**
 * The checks `bus.deadLetters(group)` makes synchronously, kept apart from the rest of the
 * consumer groups so that the bus can make them without loading that code (see
 * BusGroups: a bus that never uses groups does not carry them in its bundle).
 */
import { InvalidOptionError } from '../errors.js';
import { describe, EVENT_DEFAULTS } from '../event.js';
import { hasControlCharacter } from '../pattern/limits.js';

export function checkGroupName(group: unknown): string {
  const max = EVENT_DEFAULTS.maxNameLength;
  if (typeof group !== 'string' || group.length === 0 || group.length > max) {
    throw new InvalidOptionError(
      `Expected \`group\` to be a string of 1 to ${max} characters, got ${describe(group)}`,
    );
  }
  if (hasControlCharacter(group)) throw new InvalidOptionError('Expected `group` without control characters');
  return group;
}

/** `bus.consume()` or `bus.deadLetters()` on a bus with `store: null`. */
export function groupsNeedAStore(method: string): InvalidOptionError {
  return new InvalidOptionError(
    `bus.${method}() needs a store: consumer groups read events from it (the bus has \`store: null\`)`,
  );
}
