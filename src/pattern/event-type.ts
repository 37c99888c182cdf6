import { hasControlCharacter, PATTERN_LIMITS, SEPARATOR, STAR } from './limits.js';

/**
 * Why `type` is not a valid event type, or `undefined` when it is. Event types follow the
 * pattern rules minus wildcards: 1–256 characters, at most 32 non-empty segments, no `*`.
 */
export function eventTypeProblem(type: unknown): string | undefined {
  if (typeof type !== 'string') return `expected "type" to be a string, got ${typeof type}`;
  if (type.length === 0 || type.length > PATTERN_LIMITS.maxLength) {
    return `expected "type" to have 1 to ${PATTERN_LIMITS.maxLength} characters, got ${type.length}`;
  }
  if (hasControlCharacter(type))
    return `expected "type" without control characters, got ${JSON.stringify(type)}`;
  if (type.includes(STAR)) return `expected "type" without "*" (wildcards belong in patterns), got "${type}"`;
  if (type.startsWith(SEPARATOR) || type.endsWith(SEPARATOR) || type.includes('..')) {
    return `expected "type" to be non-empty words separated by single dots, got "${type}"`;
  }
  let segments = 1;
  for (let i = type.indexOf(SEPARATOR); i >= 0; i = type.indexOf(SEPARATOR, i + 1)) segments++;
  if (segments > PATTERN_LIMITS.maxSegments) {
    return `expected "type" to have at most ${PATTERN_LIMITS.maxSegments} segments, got ${segments}`;
  }
  return undefined;
}
