/**
 * The public declarations of `bus.consume`: its options, handler and context types, defaults
 * and limits. Nothing here runs code: the bus's entry re-exports these, and esbuild with code
 * splitting puts a module that the entry re-exports and a lazy chunk imports in the code
 * loaded at start; the checks that apply them (resolve-consume-options.ts) load with the rest
 * of the consumer groups, on first use.
 */
import type { StoredEvent } from '../event.js';

/** What a consumer-group handler gets besides the event. See docs/consumer-groups.md. */
export interface ConsumerContext {
  /**
   * This delivery's number: 1 the first time, 2 on the first retry, and so on (the count a
   * dead letter reports; it goes on across consumers and processes).
   */
  readonly deliveries: number;
  /**
   * Aborts when the delivery passes `ackTimeoutMs` (reason: a TimeoutError; the event will be
   * redelivered, so stop working on it) or when the consumer or its bus closes (reason: a
   * ClosedError; resolving still acknowledges, rejecting leaves the event to the group, which
   * redelivers it at once rather than after a backoff).
   */
  readonly signal: AbortSignal;
  /** The group's name. */
  readonly group: string;
}

/** A `bus.consume` handler: resolving acknowledges the event, throwing or rejecting fails the delivery. */
export type ConsumerHandler<E = StoredEvent> = (event: E, context: ConsumerContext) => unknown;

/** Options of `bus.consume`. Only `group` is required. See docs/consumer-groups.md. */
export interface ConsumeOptions {
  /** The group's name: consumers with the same group share its events, each event going to one of them. */
  group: string;
  /** Handler calls of this consumer running at once. @default 1 */
  concurrency?: number;
  /** Deliveries of one event in all, the first included, before it is dead-lettered. @default 5 */
  maxDeliveries?: number;
  /**
   * Wait before the first redelivery of a failed event; it doubles with every further
   * failure, up to `maxRetryDelayMs`. 0 redelivers at once. @default 1000
   */
  retryDelayMs?: number;
  /** The cap of the exponential backoff. @default 60000 */
  maxRetryDelayMs?: number;
  /**
   * A handler that has not settled by then counts as a failed delivery: the event is
   * redelivered (or dead-lettered) and the call's later result is ignored. @default 30000
   */
  ackTimeoutMs?: number;
  /**
   * Where a new group starts: `'now'` (events published after `consume()` resolved) or
   * `'start'` (the retained history too). An existing group resumes where it left off.
   * @default 'now'
   */
  from?: 'now' | 'start';
}

export const CONSUME_DEFAULTS = {
  concurrency: 1,
  maxDeliveries: 5,
  retryDelayMs: 1000,
  maxRetryDelayMs: 60_000,
  ackTimeoutMs: 30_000,
  from: 'now',
} as const;

export const CONSUMER_GROUP_LIMITS = {
  /** Dead letters kept per group; past it the oldest is discarded. */
  maxDeadLetters: 10_000,
  /**
   * Longest `lastError.message` a dead letter keeps (UTF-16 units): a longer one is cut, ending
   * in a marker that gives its full length. 10,000 letters of unbounded messages could hold
   * gigabytes (a handler that throws with the event's data in its message).
   */
  maxErrorMessageLength: 1024,
  /** Longest `lastError.name` a dead letter keeps. */
  maxErrorNameLength: 256,
  /** Handler calls per consumer (each holds a slot and a timer). */
  maxConcurrency: 10_000,
  /** Longest delay `setTimeout` honours; larger values would fire at once. */
  maxTimerMs: 2_147_483_647,
} as const;
