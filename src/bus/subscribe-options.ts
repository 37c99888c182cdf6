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

/** Where a subscription starts: only `'now'` without a store. */
export type StartFrom = 'now' | 'start' | { after: string } | { since: number };

export interface SubscribeOptions<E> extends SelectOptions<E> {
  /** @default 'now' */
  from?: StartFrom;
  /** Most events held for a reader that falls behind. @default 1024 */
  bufferSize?: number;
  /** What happens when the buffer is full. @default 'drop-oldest' */
  overflow?: OverflowPolicy;
}

export const SUBSCRIBE_DEFAULTS = { bufferSize: 1024, overflow: 'drop-oldest' } as const;

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
