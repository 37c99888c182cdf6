import type { ErrorContext } from '../bus/options.js';
import type { StoredEvent } from '../event.js';
import type { Subscriber } from './subscriber.js';

/**
 * Delivers one event to its matched subscribers, in subscription order, isolating failures:
 * a throwing handler or filter is reported to `onError` and the others still run.
 * Plain handlers run inline; async ones go to their subscription's own queue (its sink), so
 * one slow handler never delays another.
 */
export class Dispatcher {
  readonly #onError: (error: unknown, context: ErrorContext) => void;
  /** Promises of full sinks under `block` (no store) during the last `deliver` calls. */
  #backpressure: Promise<void>[] = [];
  delivered = 0;
  handlerErrors = 0;

  constructor(onError: (error: unknown, context: ErrorContext) => void) {
    this.#onError = onError;
  }

  /** Returns how many user subscriptions the event reached (after `stream` and `filter`). */
  deliver(event: StoredEvent, subscribers: readonly Subscriber[]): number {
    // Read up to the length at the start: subscribers added by a handler start with the next event.
    const n = subscribers.length;
    let reached = 0;
    for (let i = 0; i < n; i++) {
      const s = subscribers[i]!;
      if (!s.active) continue;
      if (s.stream !== undefined && s.stream !== event.stream) continue;
      if (s.filter !== undefined && !this.#passes(s, event)) continue;
      // The bus's own watchers (consumer-group wake-ups) are not subscribers anyone counts.
      reached += s.weight;
      if (s.sink !== undefined) {
        const wait = s.sink.push(event);
        if (wait !== undefined) this.#backpressure.push(wait);
      } else {
        this.#call(s, event);
      }
    }
    this.delivered += reached;
    return reached;
  }

  /** Takes the backpressure promises collected since the last call (empty unless `block` sinks are full). */
  takeBackpressure(): Promise<void>[] | undefined {
    if (this.#backpressure.length === 0) return undefined;
    const waits = this.#backpressure;
    this.#backpressure = [];
    return waits;
  }

  /** Reports a failure that happened outside a handler call (e.g. an iterator overflow). */
  report(error: unknown, context: ErrorContext): void {
    try {
      this.#onError(error, context);
    } catch {
      // An onError that throws must not break delivery; nothing sensible is left to tell.
    }
  }

  /** A handler call failed (threw, or its promise rejected). */
  fail(error: unknown, source: ErrorContext['source'], s: Subscriber, event: StoredEvent): void {
    this.handlerErrors++;
    this.report(error, { source, patterns: s.sources, event });
  }

  #call(s: Subscriber, event: StoredEvent): void {
    let result: unknown;
    try {
      result = s.handler!(event);
    } catch (error) {
      this.fail(error, 'handler', s, event);
      return;
    }
    if (result !== undefined && typeof (result as PromiseLike<unknown>)?.then === 'function') {
      // A plain function that returned a promise: this call holds a slot of its queue, and
      // its later calls go through the queue.
      s.becomeAsync().track(result as PromiseLike<unknown>, event);
    }
  }

  #passes(s: Subscriber, event: StoredEvent): boolean {
    try {
      return Boolean(s.filter!(event));
    } catch (error) {
      this.fail(error, 'filter', s, event);
      return false;
    }
  }
}
