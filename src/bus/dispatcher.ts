import PQueue from 'p-queue';
import type { StoredEvent } from '../event.js';
import type { ErrorContext } from './options.js';
import type { Subscriber } from './subscriber.js';

/**
 * Delivers one event to its matched subscribers, in subscription order, isolating failures:
 * a throwing handler or filter is reported to `onError` and the others still run.
 * Async handlers go through a p-queue so their concurrency is bounded and `drain()` can wait.
 */
export class Dispatcher {
  readonly #queue: PQueue;
  readonly #onError: (error: unknown, context: ErrorContext) => void;
  /** Promises of `block` subscriptions whose buffer was full during the last `deliver` calls. */
  #backpressure: Promise<void>[] = [];
  delivered = 0;
  handlerErrors = 0;

  constructor(concurrency: number, onError: (error: unknown, context: ErrorContext) => void) {
    this.#queue = new PQueue({ concurrency });
    this.#onError = onError;
  }

  /** Returns how many subscribers the event reached (after `stream` and `filter`). */
  deliver(event: StoredEvent, subscribers: readonly Subscriber[]): number {
    // Read up to the length at the start: subscribers added by a handler start with the next event.
    const n = subscribers.length;
    let reached = 0;
    for (let i = 0; i < n; i++) {
      const s = subscribers[i]!;
      if (!s.active) continue;
      if (s.stream !== undefined && s.stream !== event.stream) continue;
      if (s.filter !== undefined && !this.#passes(s, event)) continue;
      reached++;
      if (s.sink !== undefined) {
        const wait = s.sink.push(event);
        if (wait !== undefined) this.#backpressure.push(wait);
      } else if (s.isAsync) {
        this.#queue.add(() => s.handler!(event)).catch((error) => this.#fail(error, 'handler', s, event));
      } else {
        this.#call(s, event);
      }
    }
    this.delivered += reached;
    return reached;
  }

  /** Takes the backpressure promises collected since the last call (empty unless `block` buffers are full). */
  takeBackpressure(): Promise<void>[] | undefined {
    if (this.#backpressure.length === 0) return undefined;
    const waits = this.#backpressure;
    this.#backpressure = [];
    return waits;
  }

  /** Async handler calls started or queued and not yet settled. */
  get pending(): number {
    return this.#queue.size + this.#queue.pending;
  }

  /** Resolves when every async handler call queued so far has settled. */
  async drain(): Promise<void> {
    await this.#queue.onIdle();
  }

  /** Reports a failure that happened outside a handler call (e.g. an iterator overflow). */
  report(error: unknown, context: ErrorContext): void {
    try {
      this.#onError(error, context);
    } catch {
      // An onError that throws must not break delivery; nothing sensible is left to tell.
    }
  }

  #call(s: Subscriber, event: StoredEvent): void {
    let result: unknown;
    try {
      result = s.handler!(event);
    } catch (error) {
      this.#fail(error, 'handler', s, event);
      return;
    }
    if (result !== undefined && typeof (result as PromiseLike<unknown>)?.then === 'function') {
      // A plain function that returned a promise: track this call, and queue its later calls.
      s.isAsync = true;
      this.#queue
        .add(() => result as PromiseLike<unknown>)
        .catch((error) => this.#fail(error, 'handler', s, event));
    }
  }

  #passes(s: Subscriber, event: StoredEvent): boolean {
    try {
      return Boolean(s.filter!(event));
    } catch (error) {
      this.#fail(error, 'filter', s, event);
      return false;
    }
  }

  #fail(error: unknown, source: ErrorContext['source'], s: Subscriber, event: StoredEvent): void {
    this.handlerErrors++;
    this.report(error, { source, patterns: s.sources, event });
  }
}
