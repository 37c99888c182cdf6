/**
 * The creation context of an event (the producer span context its consumers join), read from its
 * meta. Every subscriber an event reaches gets the same object, one call after another, and the
 * publishing process knows the context it just injected: a one-entry memo of the last event
 * catches those repeats without the GC cost a WeakMap of every event would have.
 */
import type { SpanContext } from '@opentelemetry/api';
import type { StoredEvent } from '../event.js';
import { parseTraceContext } from './trace-context.js';

export class CreationContexts {
  #event: StoredEvent | undefined;
  #context: SpanContext | undefined;

  /** Remembers the context just injected into (or found in) `event`. */
  set(event: StoredEvent, context: SpanContext): void {
    this.#event = event;
    this.#context = context;
  }

  of(event: StoredEvent): SpanContext | undefined {
    if (event !== this.#event) this.set(event, parseTraceContext(event.meta) as SpanContext);
    return this.#context;
  }
}
