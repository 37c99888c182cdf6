/**
 * Publish spans, as the messaging conventions (v1.44.0) lay out producers:
 * - `publish(event)`: one "send" span `publish <type>`, kind PRODUCER, whose context is the
 *   event's creation context, injected into its meta;
 * - `publishBatch(events)`: a "create" span `create <type>` (PRODUCER) per event, injected into
 *   it, and one "send" span `publish <type>` (`publish` when the types differ) that links to
 *   each creation context and carries `messaging.batch.message_count`; its kind is CLIENT, as
 *   the conventions want for a send span whose context is not the creation context;
 * - an event that already carries a valid `traceparent` (a user's own creation context) keeps
 *   it: no create span, the send span links to it.
 * All spans start in the context active when `publish` was called.
 */
import {
  type Attributes,
  type Context,
  context as contexts,
  type Link,
  type Span,
  type SpanContext,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import type { StoredEvent } from '../event.js';
import type { PublishOutcome, PublishScope } from '../telemetry/bus-telemetry.js';
import type { CreationContexts } from './creation-contexts.js';
import { describeFailure } from './error-type.js';
import type { MessagingAttributes } from './messaging-attributes.js';
import type { MessagingMetrics } from './messaging-metrics.js';
import { ATTR, OPERATION } from './semconv.js';
import { formatTraceContext, parseTraceContext, TRACEPARENT, TRACESTATE } from './trace-context.js';

export interface PublishTracingParts {
  tracer: Tracer;
  attributes: MessagingAttributes;
  metrics: MessagingMetrics;
  contexts: CreationContexts;
}

/** One publish or publishBatch, from before stamping to its outcome. */
export class PublishTracing implements PublishScope {
  readonly #parts: PublishTracingParts;
  readonly #batch: boolean;
  readonly #parent: Context = contexts.active();
  /** A batch's send span starts when it ends (its links are known then), back-dated to here. */
  readonly #startedAt: number | undefined;
  /** The stamped events' types, in order: the sent-messages count is per type. */
  readonly #types: string[] = [];
  /** A single publish's send span, started at its event's injection. */
  #span: Span | undefined;
  /** A batch's creation contexts, for the send span's links. */
  readonly #links: Link[] = [];

  constructor(parts: PublishTracingParts, batch: boolean) {
    this.#parts = parts;
    this.#batch = batch;
    if (batch) this.#startedAt = performance.now();
  }

  inject(event: StoredEvent): Readonly<Record<string, string>> | undefined {
    this.#types.push(event.type);
    const own = event.meta?.[TRACEPARENT] === undefined ? undefined : parseTraceContext(event.meta);
    if (own !== undefined) this.#parts.contexts.set(event, own);
    if (!this.#batch) {
      this.#span = this.#startSend(event.type, own === undefined ? SpanKind.PRODUCER : SpanKind.CLIENT, own);
      if (this.#span.isRecording()) this.#describeMessage(this.#span, event);
      return own === undefined ? this.#injected(event, this.#span.spanContext()) : undefined;
    }
    if (own !== undefined) {
      this.#links.push(this.#link(own, event, true));
      return undefined;
    }
    const { tracer, attributes } = this.#parts;
    const create = tracer.startSpan(
      `${OPERATION.create.name} ${event.type}`,
      { kind: SpanKind.PRODUCER, attributes: attributes.create(event.type) },
      this.#parent,
    );
    const recording = create.isRecording();
    if (recording) this.#describeMessage(create, event);
    create.end();
    this.#links.push(this.#link(create.spanContext(), event, recording));
    return this.#injected(event, create.spanContext());
  }

  end(outcomes: readonly PublishOutcome[] | undefined, error?: unknown): void {
    const span = this.#batch ? this.#startBatchSend() : (this.#span ?? this.#startFailed());
    const { metrics, attributes } = this.#parts;
    if (outcomes !== undefined) {
      if (!this.#batch && span.isRecording() && outcomes[0] !== undefined)
        span.setAttribute(ATTR.publishStatus, outcomes[0].status);
      for (const type of this.#types) metrics.sent(attributes.send(type));
    } else {
      const failure = describeFailure(error);
      span.setAttribute(ATTR.errorType, failure.type);
      span.setStatus({ code: SpanStatusCode.ERROR, message: failure.message });
      // Only stamped events were being sent: one that failed validation never was.
      for (const type of this.#types) metrics.sent(attributes.send(type), failure.type);
    }
    span.end(this.#batch ? performance.now() : undefined);
  }

  #startSend(type: string | undefined, kind: SpanKind, own: SpanContext | undefined): Span {
    const { tracer, attributes } = this.#parts;
    return tracer.startSpan(
      type === undefined ? OPERATION.send.name : `${OPERATION.send.name} ${type}`,
      {
        kind,
        attributes: type === undefined ? attributes.sendMixed : attributes.send(type),
        links: own === undefined ? undefined : [{ context: own }],
      },
      this.#parent,
    );
  }

  #startBatchSend(): Span {
    const types = this.#types;
    const same = types.length > 0 && types.every((type) => type === types[0]);
    const { tracer, attributes } = this.#parts;
    const span = tracer.startSpan(
      same ? `${OPERATION.send.name} ${types[0]}` : OPERATION.send.name,
      {
        kind: SpanKind.CLIENT,
        attributes: same ? attributes.send(types[0]!) : attributes.sendMixed,
        links: this.#links,
        startTime: this.#startedAt,
      },
      this.#parent,
    );
    if (span.isRecording()) span.setAttribute(ATTR.batchCount, types.length);
    return span;
  }

  /** A single publish that failed before its event was stamped (invalid input, a closed bus). */
  #startFailed(): Span {
    return this.#startSend(undefined, SpanKind.PRODUCER, undefined);
  }

  #describeMessage(span: Span, event: StoredEvent): void {
    span.setAttribute(ATTR.messageId, event.id);
    span.setAttribute(ATTR.stream, event.stream);
  }

  /** A link to one event's creation context; its id rides on the link (it differs per event). */
  #link(context: SpanContext, event: StoredEvent, describe: boolean): Link {
    const attributes: Attributes | undefined = describe ? { [ATTR.messageId]: event.id } : undefined;
    return { context, attributes };
  }

  /** The meta keys for `context`; none when it is invalid (the API's no-op tracer and no parent). */
  #injected(event: StoredEvent, context: SpanContext): Record<string, string> | undefined {
    if (!trace.isSpanContextValid(context)) return undefined;
    this.#parts.contexts.set(event, context);
    const keys = formatTraceContext(context);
    // A stale tracestate of the caller's must not ride along with our traceparent.
    if (keys[TRACESTATE] === undefined && event.meta?.[TRACESTATE] !== undefined) keys[TRACESTATE] = '';
    return keys;
  }
}
