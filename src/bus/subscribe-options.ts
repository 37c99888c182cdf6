import { InvalidOptionError } from '../errors.js';
import { describe, EVENT_DEFAULTS } from '../event.js';
import { hasControlCharacter } from '../pattern/limits.js';
import type { OverflowPolicy } from '../subscription/buffered-subscription.js';

/** Options shared by `on`, `once` and `subscribe`. */
export interface SelectOptions<E> {
  /** Only events of this stream. */
  stream?: string;
  /** Only events for which this returns true (e.g. role or permission checks). A throwing filter counts as false and is reported. */
  filter?: (event: E) => boolean;
  /** Aborting it removes the subscription. */
  signal?: AbortSignal;
}

export type OnOptions<E> = SelectOptions<E>;

export interface OnceOptions<E> extends SelectOptions<E> {
  /** Reject with `TimeoutError` when no matching event arrives in time. */
  timeoutMs?: number;
}

/**
 * Where a subscription starts: `'now'` (live only), `'start'` (everything the store
 * retains), `{ after: cursor }` (strictly after a cursor, e.g. a client's last seen
 * event) or `{ since: epochMs }` (events whose `time` ≥ since). Only `'now'` without a store.
 */
export type StartFrom = 'now' | 'start' | { after: string } | { since: number };

export interface SubscribeOptions<E> extends SelectOptions<E> {
  /** @default 'now' */
  from?: StartFrom;
  /** Most events held for a reader that falls behind. @default 1024 */
  bufferSize?: number;
  /** What happens when the buffer is full. @default 'drop-oldest' */
  overflow?: OverflowPolicy;
  /**
   * When replay finds history missing (`after` is older than what the store retains):
   * `'signal'` yields a `HistoryTruncated` item first, `'throw'` ends with `HistoryTruncatedError`.
   * @default 'signal'
   */
  onTruncated?: 'signal' | 'throw';
}

export const SUBSCRIBE_DEFAULTS = {
  bufferSize: 1024,
  overflow: 'drop-oldest',
  onTruncated: 'signal',
} as const;

const OVERFLOW_POLICIES: readonly OverflowPolicy[] = ['block', 'drop-oldest', 'drop-newest', 'error'];

/** Rejects malformed selection options with a message naming the option. */
export function checkSelectOptions(options: SelectOptions<never>): void {
  if (options === null || typeof options !== 'object') {
    throw new InvalidOptionError(`Expected options to be an object, got ${describe(options)}`);
  }
  const { stream, filter, signal } = options;
  if (stream !== undefined) {
    if (typeof stream !== 'string' || stream.length === 0 || stream.length > EVENT_DEFAULTS.maxNameLength) {
      throw new InvalidOptionError(
        `Expected \`stream\` to be a string of 1 to ${EVENT_DEFAULTS.maxNameLength} characters, got ${describe(stream)}`,
      );
    }
    if (hasControlCharacter(stream))
      throw new InvalidOptionError('Expected `stream` without control characters');
  }
  if (filter !== undefined && typeof filter !== 'function') {
    throw new InvalidOptionError(`Expected \`filter\` to be a function, got ${describe(filter)}`);
  }
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new InvalidOptionError(`Expected \`signal\` to be an AbortSignal, got ${describe(signal)}`);
  }
}

export function checkOverflow(overflow: unknown): OverflowPolicy {
  if (overflow === undefined) return SUBSCRIBE_DEFAULTS.overflow;
  if (!OVERFLOW_POLICIES.includes(overflow as OverflowPolicy)) {
    throw new InvalidOptionError(
      `Expected \`overflow\` to be one of ${OVERFLOW_POLICIES.map((p) => `'${p}'`).join(', ')}, got ${describe(overflow)}`,
    );
  }
  return overflow as OverflowPolicy;
}

/** Validates `from`; replay needs a store. */
export function checkStart(from: unknown, hasStore: boolean): Exclude<StartFrom, never> {
  if (from === undefined || from === 'now') return 'now';
  const valid =
    from === 'start' ||
    (typeof from === 'object' &&
      from !== null &&
      ((typeof (from as { after?: unknown }).after === 'string' &&
        (from as { after: string }).after.length > 0) ||
        (typeof (from as { since?: unknown }).since === 'number' &&
          Number.isFinite((from as { since: number }).since))));
  if (!valid) {
    throw new InvalidOptionError(
      `Expected \`from\` to be 'now', 'start', { after: cursor } or { since: epochMs }, got ${describe(from)}`,
    );
  }
  if (!hasStore) {
    throw new InvalidOptionError(
      'Expected `from` to be "now": this bus has no store (`store: null`), so there is no history to replay',
    );
  }
  return from as StartFrom;
}

export function checkOnTruncated(value: unknown): 'signal' | 'throw' {
  if (value === undefined) return SUBSCRIBE_DEFAULTS.onTruncated;
  if (value !== 'signal' && value !== 'throw') {
    throw new InvalidOptionError(
      `Expected \`onTruncated\` to be 'signal' or 'throw', got ${describe(value)}`,
    );
  }
  return value;
}
