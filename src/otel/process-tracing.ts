/**
 * Process spans `process <type>`, kind CONSUMER, one per handler call and per consumer-group
 * delivery (messaging conventions v1.44.0, push-based consumers). Both link to the event's
 * creation context; they differ in their parent:
 * - an `on()`/`once()` handler's span is a CHILD of the creation context, so a handler in
 *   another process appears under the publisher's span (the conventions' opt-in for
 *   single-message processing); an ambient span of another trace becomes a link;
 * - a consumer-group delivery's span is a new trace's root with the link alone: the delivery
 *   runs on the group's own schedule, maybe long after and many times over (retries, a
 *   redrive), and the context active in a consumer loop is only an accident of how it started.
 * `run` makes the call inside the span's context, so spans the handler starts are its children.
 */
import {
  type Attributes,
  type Context,
  context as contexts,
  type Link,
  ROOT_CONTEXT,
  type Span,
  type SpanContext,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import type { ProcessOutcome, ProcessScope, ProcessStart } from '../telemetry/bus-telemetry.js';
import type { CreationContexts } from './creation-contexts.js';
import { describeFailure } from './error-type.js';
import type { MessagingAttributes } from './messaging-attributes.js';
import type { MessagingMetrics } from './messaging-metrics.js';
import { ATTR, OPERATION } from './semconv.js';

export interface ProcessTracingParts {
  tracer: Tracer;
  attributes: MessagingAttributes;
  metrics: MessagingMetrics;
  contexts: CreationContexts;
}

export class ProcessTracing implements ProcessScope {
  readonly #parts: ProcessTracingParts;
  readonly #span: Span;
  readonly #context: Context;
  readonly #group: boolean;
  /** The shared attributes of this call's span start and measurements. */
  readonly #measured: Attributes;
  #startedAt = 0;

  constructor(parts: ProcessTracingParts, start: ProcessStart) {
    this.#parts = parts;
    const { event, kind, group } = start;
    this.#group = kind === 'group';
    const creation = parts.contexts.of(event);
    const ambient = contexts.active();
    const parent = this.#group
      ? ROOT_CONTEXT
      : creation === undefined
        ? ambient
        : trace.setSpanContext(ambient, creation);
    this.#measured = parts.attributes.process(event.type, this.#group ? group : undefined);
    this.#span = parts.tracer.startSpan(
      `${OPERATION.process.name} ${event.type}`,
      {
        kind: SpanKind.CONSUMER,
        attributes: this.#measured,
        links: creation === undefined ? undefined : links(creation, this.#group ? undefined : ambient),
      },
      parent,
    );
    if (this.#span.isRecording()) {
      this.#span.setAttribute(ATTR.messageId, event.id);
      this.#span.setAttribute(ATTR.stream, event.stream);
      if (this.#group) {
        if (start.deliveries !== undefined) this.#span.setAttribute(ATTR.deliveryCount, start.deliveries);
      } else this.#span.setAttribute(ATTR.patterns, [...start.patterns]);
    }
    this.#context = trace.setSpan(parent, this.#span);
    parts.metrics.consumed(this.#measured);
  }

  run<T>(call: () => T): T {
    this.#startedAt = performance.now();
    return contexts.with(this.#context, call);
  }

  end(outcome: ProcessOutcome): void {
    const seconds = (performance.now() - this.#startedAt) / 1000;
    const span = this.#span;
    if (outcome.status === 'ok') {
      if (this.#group) span.setAttribute(ATTR.disposition, 'ack');
      this.#parts.metrics.processed(this.#measured, seconds);
    } else {
      const failure = describeFailure(outcome.error);
      span.setAttribute(ATTR.errorType, failure.type);
      if (outcome.disposition !== undefined) span.setAttribute(ATTR.disposition, outcome.disposition);
      span.setStatus({ code: SpanStatusCode.ERROR, message: failure.message });
      this.#parts.metrics.processed(this.#measured, seconds, failure.type);
    }
    span.end();
  }
}

/** The creation context, and an ambient span of another trace (the handler runs inside it too). */
function links(creation: SpanContext, ambient: Context | undefined): Link[] {
  const around = ambient === undefined ? undefined : trace.getSpanContext(ambient);
  return around !== undefined && trace.isSpanContextValid(around) && around.traceId !== creation.traceId
    ? [{ context: creation }, { context: around }]
    : [{ context: creation }];
}
