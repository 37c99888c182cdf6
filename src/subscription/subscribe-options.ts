import { InvalidOptionError } from '../errors.js';
import { describe, EVENT_DEFAULTS } from '../event.js';
import { checkSignal } from '../option-checks.js';
import { hasControlCharacter } from '../pattern/limits.js';
import type { OverflowPolicy } from './buffered-subscription.js';

/** Options shared by `on`, `once` and `subscribe`. */
export interface SelectOptions<E> {
  /** Only events of this stream. */
  stream?: string;
  /** Only events for which this returns true (e.g. role or permission checks). A throwing filter counts as false and is reported. */
  filter?: (event: E) => boolean;
  /** Aborting it removes the subscription. */
  signal?: AbortSignal;
}

export interface OnOptions<E> extends SelectOptions<E> {
  /**
   * Calls of this handler running at once, when it is async. 1 keeps its calls in delivery
   * order; raise it for independent work (e.g. HTTP calls). Each subscription has its own
   * queue: a slow handler never delays another. @default 1
   */
  concurrency?: number;
  /**
   * Async calls waiting for a free slot. Past it, with a store, the subscription catches up
   * from the store (no event lost, nobody slowed); without one, `publish` waits (backpressure).
   * @default 1024
   */
  maxPending?: number;
}

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
  /**
   * What happens when the buffer is full. With a store the subscription catches up from the
   * store instead (nothing lost; `block` means the same there), unless `drop-oldest`,
   * `drop-newest` or `error` is given explicitly. @default 'drop-oldest' without a store
   */
  overflow?: OverflowPolicy;
  /**
   * When the store no longer retains what follows the reader's position (a replay `after` an
   * old cursor, or a catch-up that retention overtook): `'throw'` ends the loop with
   * `HistoryTruncatedError` (the loop only ever yields events); `'signal'` yields a
   * `HistoryTruncated` item and goes on from the oldest retained event.
   * @default 'throw'
   */
  onTruncated?: 'signal' | 'throw';
}

/** Options of `publish` and `publishBatch`. */
export interface PublishOptions {
  /**
   * Ends the publish's waits (a `delay` rate limit, a full `block` subscription, the shared
   * feed being positioned): before the event is stored, the publish rejects with the signal's
   * reason and nothing is published; once stored, it resolves with what was delivered so far.
   */
  signal?: AbortSignal;
}

/** Options of `ready`. */
export interface ReadyOptions {
  signal?: AbortSignal;
  /** Reject with `StoreUnavailableError` past this. @default the bus's `feedTimeoutMs` */
  timeoutMs?: number;
}

export const SUBSCRIBE_DEFAULTS = {
  bufferSize: 1024,
  overflow: 'drop-oldest',
  onTruncated: 'throw',
  concurrency: 1,
  maxPending: 1024,
} as const;

const OVERFLOW_POLICIES: readonly OverflowPolicy[] = ['block', 'drop-oldest', 'drop-newest', 'error'];

/** The selection options as validated: read once, so a getter cannot answer differently later. */
export interface SelectChoice<E> {
  stream: string | undefined;
  filter: ((event: E) => boolean) | undefined;
  signal: AbortSignal | undefined;
}

/**
 * Rejects malformed selection options with a message naming the option; returns them as
 * read, once each (the caller uses these values, never the options object again).
 */
export function checkSelectOptions<E>(options: SelectOptions<E>): SelectChoice<E> {
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
  checkSignal(signal);
  return { stream, filter, signal };
}

/** Validates `overflow`; `undefined` stays undefined (the bus picks catch-up or the default). */
export function checkOverflow(overflow: unknown): OverflowPolicy | undefined {
  if (overflow === undefined) return undefined;
  if (!OVERFLOW_POLICIES.includes(overflow as OverflowPolicy)) {
    throw new InvalidOptionError(
      `Expected \`overflow\` to be one of ${OVERFLOW_POLICIES.map((p) => `'${p}'`).join(', ')}, got ${describe(overflow)}`,
    );
  }
  return overflow as OverflowPolicy;
}

/** Validates `from`; replay needs a store. An object comes back as a copy: its fields read once. */
export function checkStart(from: unknown, hasStore: boolean): Exclude<StartFrom, never> {
  if (from === undefined || from === 'now') return 'now';
  let start: StartFrom | undefined;
  if (from === 'start') start = from;
  else if (typeof from === 'object' && from !== null) {
    const { after, since } = from as { after?: unknown; since?: unknown };
    if (typeof after === 'string' && after.length > 0)
      start = since === undefined ? { after } : ({ after, since } as StartFrom);
    else if (typeof since === 'number' && Number.isFinite(since)) start = { since };
  }
  if (start === undefined) {
    throw new InvalidOptionError(
      `Expected \`from\` to be 'now', 'start', { after: cursor } or { since: epochMs }, got ${describe(from)}`,
    );
  }
  if (!hasStore) {
    throw new InvalidOptionError(
      'Expected `from` to be "now": this bus has no store (`store: null`), so there is no history to replay',
    );
  }
  return start;
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
