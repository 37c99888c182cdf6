import { describe, expect, it } from 'vitest';
import * as busline from '../src/index.js';
import { BuslineError } from '../src/index.js';

const errorClasses = (Object.values(busline) as unknown[]).filter(
  (value): value is new (...args: never[]) => BuslineError =>
    typeof value === 'function' && value.prototype instanceof BuslineError,
);

function instantiate(ErrorClass: new (...args: never[]) => BuslineError): BuslineError {
  const cause = new Error('root cause');
  // Constructors take (message, options) or, for a few, a leading detail argument.
  const attempts: unknown[][] = [
    ['message', { cause }],
    ['pattern', 'reason', { cause }],
    [1024, { cause }],
    ['type', [{ message: 'bad', path: 'a.b' }], { cause }],
  ];
  for (const args of attempts) {
    const error = new (ErrorClass as new (...a: unknown[]) => BuslineError)(...args);
    if (error.cause === cause) return error;
  }
  throw new Error(`no known constructor shape passes cause for ${ErrorClass.name}`);
}

describe('errors', () => {
  it('exports one class per documented code', () => {
    const codes = errorClasses.map((ErrorClass) => instantiate(ErrorClass).code).sort();
    expect(codes).toEqual([
      'BUFFER_OVERFLOW',
      'CLOSED',
      'EVENT_TOO_LARGE',
      'HISTORY_TRUNCATED',
      'INVALID_EVENT',
      'INVALID_OPTION',
      'INVALID_PATTERN',
      'MODULE_LOAD_FAILED',
      'RATE_LIMITED',
      'SCHEMA_MISMATCH',
      'STORE_UNAVAILABLE',
      'TIMEOUT',
      'UNEXPECTED_RESPONSE',
    ]);
  });

  it.each(errorClasses.map((ErrorClass) => [ErrorClass.name, ErrorClass] as const))(
    '%s sets name to its class name, passes cause through and is a BuslineError and an Error',
    (_name, ErrorClass) => {
      const error = instantiate(ErrorClass);
      expect(error.name).toBe(error.constructor.name);
      expect(error).toBeInstanceOf(BuslineError);
      expect(error).toBeInstanceOf(Error);
      expect((error.cause as Error).message).toBe('root cause');
      expect(error.stack).toContain(error.name);
    },
  );

  it('names the failing path in a schema mismatch message', () => {
    const error = new busline.SchemaMismatchError('task.created', [
      { message: 'Expected string', path: 'title' },
    ]);
    expect(error.message).toContain('"title"');
    expect(error.message).toContain('task.created');
  });
});
