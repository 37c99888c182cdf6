import { afterEach, vi } from 'vitest';
import { type ConsumeOptions, type Consumer, type ConsumerHandler, EventBus } from '../../src/index.js';

/** Helpers for the consumer-group tests: no wall-clock sleeps, only turns of the event loop. */

/** One turn of the event loop (setImmediate stays real: the tests fake only setTimeout and Date). */
export function turn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Yields turns until `condition()` holds; fails after `maxTurns` so a broken consumer cannot hang a test. */
export async function eventually(condition: () => boolean, what: string, maxTurns = 2000): Promise<void> {
  for (let i = 0; i < maxTurns; i++) {
    if (condition()) return;
    await turn();
  }
  throw new Error(`Timed out after ${maxTurns} turns waiting for: ${what}`);
}

/** Yields a few turns, for asserting that something does NOT happen. */
export async function settle(turns = 20): Promise<void> {
  for (let i = 0; i < turns; i++) await turn();
}

export interface Deferred<T = void> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Fakes setTimeout/clearTimeout and Date only, so `turn()` keeps working. */
export function useFakeTimers(): void {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
}

/**
 * A factory of buses (errors swallowed unless `onError` is given) that are all closed after
 * each test of the file that calls this at its top level.
 */
export function busesClosedAfterEach(): (options?: ConstructorParameters<typeof EventBus>[0]) => EventBus {
  const buses: EventBus[] = [];
  afterEach(async () => {
    await Promise.all(buses.splice(0).map((bus) => bus.close()));
  });
  return (options = {}) => {
    const bus = new EventBus({ onError: () => {}, ...options });
    buses.push(bus);
    return bus;
  };
}

/**
 * `bus.consume` with a handler that reads its context. The groups code passes the context; this
 * cast stands in until `EventBus.consume` types its handler as a `ConsumerHandler`.
 */
export function consumeWithContext(
  bus: EventBus,
  pattern: string | string[],
  handler: ConsumerHandler,
  options: ConsumeOptions,
): Promise<Consumer> {
  return bus.consume(pattern, handler, options);
}
