import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EventBus } from '../../src/index.js';
import { openTelemetry } from '../../src/otel/index.js';
import { eventually } from '../groups/support.js';
import { SharedMemoryStore } from '../support/shared-memory-store.js';
import { createSdk, type Sdk, useAsyncContext } from './otel-sdk.js';

let sdk: Sdk;
let bus: EventBus;

beforeAll(useAsyncContext);
afterEach(async () => {
  await bus.close();
  await sdk.shutdown();
});

function tracedBus(): void {
  sdk = createSdk();
  bus = new EventBus({ telemetry: openTelemetry(sdk), onError: () => {} });
}

const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;
const linked = (span: ReadableSpan) => span.links.map((link) => link.context.spanId);

describe('on() handlers', () => {
  it('each call is a CONSUMER span "process <type>", a child of the publish span, and the handler\'s own spans are its children', async () => {
    tracedBus();
    const app = sdk.tracerProvider.getTracer('app');
    bus.on('task.*', async () => {
      await Promise.resolve();
      app.startSpan('write to db').end();
    });
    const { id } = await bus.publish({ type: 'task.created', stream: 's1', data: 1 });
    await bus.drain();
    const [publish] = sdk.named('publish task.created');
    const [process] = sdk.named('process task.created');
    const [work] = sdk.named('write to db');
    expect(process!.kind).toBe(SpanKind.CONSUMER);
    expect(process!.spanContext().traceId).toBe(publish!.spanContext().traceId);
    expect(parentOf(process!)).toBe(publish!.spanContext().spanId);
    expect(linked(process!)).toEqual([publish!.spanContext().spanId]);
    expect(parentOf(work!)).toBe(process!.spanContext().spanId);
    expect(process!.attributes).toEqual({
      'messaging.system': 'busline',
      'messaging.destination.name': 'task.created',
      'messaging.operation.type': 'process',
      'messaging.operation.name': 'process',
      'messaging.message.id': id,
      'messaging.busline.stream': 's1',
      'messaging.busline.subscription.patterns': ['task.*'],
    });
  });

  it('a handler that throws or rejects ends its span with ERROR and error.type', async () => {
    tracedBus();
    bus.on('a', () => {
      throw new TypeError('sync');
    });
    bus.on('a', async () => {
      throw new RangeError('async');
    });
    bus.on('a', () => Promise.reject('not an Error'));
    await bus.publish({ type: 'a', data: 1 });
    await bus.drain();
    const spans = sdk.named('process a');
    expect(spans.map((span) => [span.status, span.attributes['error.type']])).toEqual([
      [{ code: SpanStatusCode.ERROR, message: 'sync' }, 'TypeError'],
      [{ code: SpanStatusCode.ERROR, message: 'async' }, 'RangeError'],
      [{ code: SpanStatusCode.ERROR, message: undefined }, '_OTHER'],
    ]);
  });

  it('inside a span of another trace (a request that republished the event), the span stays under the producer and links that span', async () => {
    tracedBus();
    const app = sdk.tracerProvider.getTracer('app');
    const upstream = new EventBus({ store: null, telemetry: openTelemetry(sdk) });
    // A handler of the upstream bus forwards the event, trace context included, under a root span of its own.
    upstream.on('x', (event) =>
      app.startActiveSpan('forward', { root: true }, async (forward) => {
        await bus.publish({ type: 'y', data: 1, meta: event.meta });
        forward.end();
      }),
    );
    bus.on('y', () => {});
    await upstream.publish({ type: 'x', data: 1 });
    await upstream.drain();
    await bus.drain();
    const [origin] = sdk.named('publish x');
    const [forward] = sdk.named('forward');
    const [process] = sdk.named('process y');
    expect(process!.spanContext().traceId).toBe(origin!.spanContext().traceId);
    expect(parentOf(process!)).toBe(origin!.spanContext().spanId);
    expect(linked(process!)).toEqual([origin!.spanContext().spanId, forward!.spanContext().spanId]);
    await upstream.close();
  });
});

describe('consumer groups', () => {
  it('a delivery is a root CONSUMER span linked to the creation context, with the group, delivery count and ack', async () => {
    tracedBus();
    await bus.consume('job.*', async () => {}, { group: 'workers' });
    const { id } = await bus.publish({ type: 'job.run', data: 1 });
    await eventually(() => sdk.named('process job.run').length === 1, 'the delivery span');
    const [publish] = sdk.named('publish job.run');
    const [process] = sdk.named('process job.run');
    expect(process!.kind).toBe(SpanKind.CONSUMER);
    expect(process!.parentSpanContext).toBeUndefined();
    expect(process!.links.map((link) => [link.context.traceId, link.context.spanId])).toEqual([
      [publish!.spanContext().traceId, publish!.spanContext().spanId],
    ]);
    expect(process!.attributes).toMatchObject({
      'messaging.consumer.group.name': 'workers',
      'messaging.busline.message.delivery_count': 1,
      'messaging.busline.message.disposition': 'ack',
      'messaging.message.id': id,
    });
  });

  it('retries then a dead letter keep the trace: every delivery links to the producer, and the dead letter and its redrive carry its context', async () => {
    tracedBus();
    let fail = true;
    await bus.consume(
      'job.*',
      () => {
        if (fail) throw new Error('broken');
      },
      { group: 'workers', maxDeliveries: 3, retryDelayMs: 1 },
    );
    await bus.publish({ type: 'job.run', data: 1 });
    await eventually(() => sdk.named('process job.run').length === 3, 'three deliveries');
    const [publish] = sdk.named('publish job.run');
    const deliveries = sdk.named('process job.run');
    expect(
      deliveries.map((span) => [
        span.attributes['messaging.busline.message.delivery_count'],
        span.attributes['messaging.busline.message.disposition'],
        span.attributes['error.type'],
        span.status.code,
        linked(span),
      ]),
    ).toEqual([
      [1, 'retry', 'Error', SpanStatusCode.ERROR, [publish!.spanContext().spanId]],
      [2, 'retry', 'Error', SpanStatusCode.ERROR, [publish!.spanContext().spanId]],
      [3, 'dead_letter', 'Error', SpanStatusCode.ERROR, [publish!.spanContext().spanId]],
    ]);
    const [letter] = await bus.deadLetters('workers').list();
    const { traceId, spanId } = publish!.spanContext();
    expect(letter!.event.meta).toEqual({ traceparent: `00-${traceId}-${spanId}-01` });

    fail = false;
    expect(await bus.deadLetters('workers').redrive()).toBe(1);
    await eventually(() => sdk.named('process job.run').length === 4, 'the redriven delivery');
    const redriven = sdk.named('process job.run')[3]!;
    expect(redriven.links.map((link) => [link.context.traceId, link.context.spanId])).toEqual([
      [traceId, spanId],
    ]);
    expect(redriven.attributes['messaging.busline.message.disposition']).toBe('ack');
  });
});

describe('a hostile trace context', () => {
  it.each([
    ['uppercase hex', `00-${'AB'.repeat(16)}-${'cd'.repeat(8)}-01`],
    ['an all-zero trace id', `00-${'0'.repeat(32)}-${'cd'.repeat(8)}-01`],
    ['version ff', `ff-${'ab'.repeat(16)}-${'cd'.repeat(8)}-01`],
    ['a number', 42],
    ['60 kB of it', `00-${'ab'.repeat(16)}-${'cd'.repeat(8)}-01-${'x'.repeat(60_000)}`],
  ])('%s is ignored: the handler runs in a trace of its own, with no link', async (_, traceparent) => {
    sdk = createSdk();
    // Another process wrote it to the shared store, without telemetry (or with hostile intent).
    const shared = new SharedMemoryStore();
    const writer = new EventBus({ store: shared, maxEventBytes: 100_000 });
    bus = new EventBus({
      store: shared,
      telemetry: openTelemetry(sdk),
      onError: (error) => expect.fail(String(error)),
    });
    let calls = 0;
    bus.on('h', () => {
      calls++;
    });
    await bus.ready();
    await writer.publish({ type: 'h', data: 1, meta: { traceparent, tracestate: 'a=1' } });
    await eventually(() => calls === 1, 'the event from the other bus');
    await bus.drain();
    const [process] = sdk.named('process h');
    expect(process!.parentSpanContext).toBeUndefined();
    expect(process!.links).toEqual([]);
    await writer.close();
  });
});
