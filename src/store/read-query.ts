import { InvalidOptionError } from '../errors.js';
import { describe } from '../event.js';
import { TypeMatcher } from '../pattern/type-matcher.js';
import { READ_LIMITS, type ReadQuery } from './event-store.js';

/** A validated `ReadQuery` with defaults applied and `types` compiled. */
export interface CheckedReadQuery {
  stream: string | undefined;
  after: string | undefined;
  types: TypeMatcher | undefined;
  since: number;
  until: number;
  limit: number;
  backward: boolean;
}

/**
 * Validates a read query the way every adapter should, so users get the same typed errors
 * whatever the store. Exported for adapter authors.
 * @throws InvalidOptionError for a bad limit, direction, time bound or stream; InvalidPatternError for a bad type pattern.
 */
export function checkReadQuery(query: ReadQuery = {}): CheckedReadQuery {
  if (query === null || typeof query !== 'object') {
    throw new InvalidOptionError(`Expected a read query object, got ${describe(query)}`);
  }
  const {
    stream,
    after,
    types,
    since,
    until,
    limit = READ_LIMITS.defaultLimit,
    direction = 'forward',
  } = query;
  if (stream !== undefined && (typeof stream !== 'string' || stream.length === 0)) {
    throw new InvalidOptionError(`Expected \`stream\` to be a non-empty string, got ${describe(stream)}`);
  }
  if (after !== undefined && (typeof after !== 'string' || after.length === 0)) {
    throw new InvalidOptionError(`Expected \`after\` to be a cursor string, got ${describe(after)}`);
  }
  if (!Number.isInteger(limit) || limit < 1 || limit > READ_LIMITS.maxLimit) {
    throw new InvalidOptionError(
      `Expected \`limit\` to be an integer from 1 to ${READ_LIMITS.maxLimit}, got ${describe(limit)}; page with \`next\` for more`,
    );
  }
  if (direction !== 'forward' && direction !== 'backward') {
    throw new InvalidOptionError(
      `Expected \`direction\` to be 'forward' or 'backward', got ${describe(direction)}`,
    );
  }
  for (const [name, value] of [
    ['since', since],
    ['until', until],
  ] as const) {
    if (value !== undefined && (typeof value !== 'number' || Number.isNaN(value))) {
      throw new InvalidOptionError(`Expected \`${name}\` to be epoch milliseconds, got ${describe(value)}`);
    }
  }
  if (types !== undefined && !Array.isArray(types)) {
    throw new InvalidOptionError(`Expected \`types\` to be an array of patterns, got ${describe(types)}`);
  }
  return {
    stream,
    after,
    types: types === undefined || types.length === 0 ? undefined : new TypeMatcher(types),
    since: since ?? Number.NEGATIVE_INFINITY,
    until: until ?? Number.POSITIVE_INFINITY,
    limit,
    backward: direction === 'backward',
  };
}
