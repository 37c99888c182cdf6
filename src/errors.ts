/**
 * Every error busline throws or rejects with is a `BuslineError` with a stable `code`.
 * Classify errors by `code` (or `instanceof`), never by message text.
 */

/** The stable codes, one per error class. */
export type BuslineErrorCode =
  | 'INVALID_EVENT'
  | 'INVALID_PATTERN'
  | 'INVALID_OPTION'
  | 'EVENT_TOO_LARGE'
  | 'SCHEMA_MISMATCH'
  | 'RATE_LIMITED'
  | 'BUFFER_OVERFLOW'
  | 'HISTORY_TRUNCATED'
  | 'STORE_UNAVAILABLE'
  | 'TIMEOUT'
  | 'CLOSED'
  | 'UNEXPECTED_RESPONSE'
  | 'MODULE_LOAD_FAILED';

export interface BuslineErrorOptions {
  cause?: unknown;
}

export abstract class BuslineError extends Error {
  abstract readonly code: BuslineErrorCode;

  constructor(message: string, options?: BuslineErrorOptions) {
    super(message, options);
    // `new.target` keeps the subclass name, so `err.name === err.constructor.name` holds for all.
    this.name = new.target.name;
  }
}

/** An event envelope field is missing, has the wrong type, or breaks a limit. */
export class InvalidEventError extends BuslineError {
  readonly code = 'INVALID_EVENT';
  /** Position in a `publishBatch` call, when the bad event came from one. */
  readonly index: number | undefined;
  constructor(message: string, options?: BuslineErrorOptions & { index?: number }) {
    super(options?.index === undefined ? message : `events[${options.index}]: ${message}`, options);
    this.index = options?.index;
  }
}

/** A subscription pattern is malformed (`task*`, `a..b`) or breaks a limit. */
export class InvalidPatternError extends BuslineError {
  readonly code = 'INVALID_PATTERN';
  readonly pattern: string;
  constructor(pattern: string, reason: string, options?: BuslineErrorOptions) {
    super(`Invalid pattern ${JSON.stringify(pattern)}: ${reason}`, options);
    this.pattern = pattern;
  }
}

/** An option has a value outside its documented range or a combination that cannot work. */
export class InvalidOptionError extends BuslineError {
  readonly code = 'INVALID_OPTION';
}

/** The serialized event is larger than `maxEventBytes`. */
export class EventTooLargeError extends BuslineError {
  readonly code = 'EVENT_TOO_LARGE';
  readonly limit: number;
  readonly index: number | undefined;
  constructor(limit: number, options?: BuslineErrorOptions & { index?: number }) {
    const where = options?.index === undefined ? '' : `events[${options.index}]: `;
    super(`${where}Expected the serialized event to be at most ${limit} bytes, got more`, options);
    this.limit = limit;
    this.index = options?.index;
  }
}

/** One problem reported by a Standard Schema validator. */
export interface SchemaIssue {
  message: string;
  /** Dotted path into `data`, e.g. `items.0.title`; empty for the root. */
  path: string;
}

/** `data` does not satisfy the schema registered for the event's type. */
export class SchemaMismatchError extends BuslineError {
  readonly code = 'SCHEMA_MISMATCH';
  readonly type: string;
  readonly issues: readonly SchemaIssue[];
  readonly index: number | undefined;
  constructor(
    type: string,
    issues: readonly SchemaIssue[],
    options?: BuslineErrorOptions & { index?: number },
  ) {
    const where = options?.index === undefined ? '' : `events[${options.index}]: `;
    const first = issues[0];
    const detail = first
      ? `${first.path ? `at "${first.path}"` : 'at the root'}: ${first.message}`
      : 'invalid';
    const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : '';
    super(`${where}data of "${type}" does not match its schema ${detail}${more}`, options);
    this.type = type;
    this.issues = issues;
    this.index = options?.index;
  }
}

/** The rate limiter refused the event and `onLimit` is `'throw'`. */
export class RateLimitedError extends BuslineError {
  readonly code = 'RATE_LIMITED';
}

/** A subscription with `overflow: 'error'` received more events than its buffer holds. */
export class BufferOverflowError extends BuslineError {
  readonly code = 'BUFFER_OVERFLOW';
}

/** A replay cursor is older than what the store still retains. */
export class HistoryTruncatedError extends BuslineError {
  readonly code = 'HISTORY_TRUNCATED';
  /** The cursor the reader asked to continue after (its resume point); undefined for a replay from the start. */
  readonly after: string | undefined;
  /** The oldest cursor the store still retains, when known: where a new replay can start. */
  readonly oldest: string | undefined;
  constructor(message: string, options?: BuslineErrorOptions & { after?: string; oldest?: string }) {
    super(message, options);
    this.after = options?.after;
    this.oldest = options?.oldest;
  }
}

/** The event store cannot be reached; the operation had no effect or its outcome is reported. */
export class StoreUnavailableError extends BuslineError {
  readonly code = 'STORE_UNAVAILABLE';
  /**
   * For a write: `true` when it may still have been applied (it was sent and timed out: retry
   * with the same event ids, a duplicate is harmless), `false` when it surely was not (refused
   * before it was sent); absent when the store cannot tell.
   */
  declare readonly mayHaveApplied?: boolean;
  constructor(message: string, options?: BuslineErrorOptions & { mayHaveApplied?: boolean }) {
    super(message, options);
    if (options?.mayHaveApplied !== undefined) this.mayHaveApplied = options.mayHaveApplied;
  }
}

/** An operation did not complete within its time limit (e.g. `once` past `timeoutMs`). */
export class TimeoutError extends BuslineError {
  readonly code = 'TIMEOUT';
}

/** The bus (or subscription) was closed. */
export class ClosedError extends BuslineError {
  readonly code = 'CLOSED';
}

/**
 * A server answered an event-stream request with something that is not one: a status other
 * than 2xx (503 and 429 are waited out instead), `204 No Content`, or a body that is not
 * `text/event-stream`. Retrying would get the same answer, so `sseEvents` ends with it.
 */
export class UnexpectedResponseError extends BuslineError {
  readonly code = 'UNEXPECTED_RESPONSE';
  /** The HTTP status the server answered with. */
  readonly status: number | undefined;
  /** Its `content-type` header, null when it sent none. */
  readonly contentType: string | null | undefined;
  constructor(
    message: string,
    options?: BuslineErrorOptions & { status?: number; contentType?: string | null },
  ) {
    super(message, options);
    this.status = options?.status;
    this.contentType = options?.contentType;
  }
}

/**
 * busline could not load part of its own code that it loads on first use (the consumer groups,
 * the delivery through a shared store): in a bundle split into chunks, the chunk's request
 * failed (the network, or a deploy that replaced it). Nothing was done; busline tries the load
 * again on the next call (and, for a shared store's live feed, on its own). `cause` is the
 * loader's error.
 */
export class ModuleLoadError extends BuslineError {
  readonly code = 'MODULE_LOAD_FAILED';
}

/** The ModuleLoadError of the `what` code whose load failed with `cause`; `after` says what happens next. */
export function moduleLoadFailed(what: string, cause: unknown, after: string): ModuleLoadError {
  const reason = String((cause as Error)?.message ?? cause);
  return new ModuleLoadError(`Could not load the ${what} code (loaded on first use): ${reason}. ${after}`, {
    cause,
  });
}
