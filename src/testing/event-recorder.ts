import type { EventBus } from '../bus/event-bus.js';
import type { EventMap, EventMatching, PatternOf } from '../bus/typed-events.js';
import { InvalidOptionError, TimeoutError } from '../errors.js';
import { describe } from '../event.js';
import { optionsObject, positiveInteger } from '../option-checks.js';
import type { OnOptions } from '../subscription/subscribe-options.js';

/** Events recorded by `recordEvents`, with a way to wait for deliveries without sleeping. */
export interface EventRecorder<E> {
  /** Every event delivered so far, in delivery order. */
  readonly events: E[];
  /** Resolves once at least `count` events were recorded; rejects with TimeoutError after `timeoutMs` (default 5000). */
  waitFor(count: number, options?: { timeoutMs?: number }): Promise<E[]>;
  /** Unsubscribes. */
  stop(): void;
}

/**
 * Subscribes a recording handler: the unit-test companion of `bus.on`.
 * @example
 * const seen = recordEvents(bus, 'task.*');
 * await publishSomething();
 * await seen.waitFor(2);
 * expect(seen.events.map((e) => e.type)).toEqual(['task.created', 'task.done']);
 */
export function recordEvents<Events extends EventMap, P extends PatternOf<Events>>(
  bus: EventBus<Events>,
  pattern: P | readonly P[],
  options?: OnOptions<EventMatching<Events, P>>,
): EventRecorder<EventMatching<Events, P>> {
  if (bus === null || typeof bus !== 'object' || typeof (bus as Partial<EventBus>).on !== 'function')
    throw new InvalidOptionError(`Expected \`bus\` to be an EventBus, got ${describe(bus)}`);
  const events: EventMatching<Events, P>[] = [];
  const waiters = new Set<{ count: number; resolve: () => void }>();
  const stop = bus.on(
    pattern,
    (event) => {
      events.push(event);
      for (const waiter of waiters) if (events.length >= waiter.count) waiter.resolve();
    },
    options,
  );
  return {
    events,
    stop,
    waitFor(count, options) {
      if (typeof count !== 'number' || !Number.isInteger(count) || count < 0)
        throw new InvalidOptionError(`Expected \`count\` to be an integer ≥ 0, got ${describe(count)}`);
      const timeoutMs = positiveInteger('timeoutMs', optionsObject('waitFor', options).timeoutMs, 5000);
      if (events.length >= count) return Promise.resolve(events);
      return new Promise((resolve, reject) => {
        const waiter = {
          count,
          resolve: () => {
            clearTimeout(timer);
            waiters.delete(waiter);
            resolve(events);
          },
        };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new TimeoutError(`Expected ${count} events within ${timeoutMs} ms, got ${events.length}`));
        }, timeoutMs);
        waiters.add(waiter);
      });
    },
  };
}
