import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EventBus, InvalidEventError, MemoryEventStore, type StoredEvent } from '../../src/index.js';
import { openTelemetry } from '../../src/otel/index.js';
import { createSdk, type Sdk, useAsyncContext } from './otel-sdk.js';

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/;

let sdk: Sdk;
let bus: EventBus;

beforeAll(useAsyncContext);
afterEach(async () => {
  await bus.close();
  await sdk.shutdown();
});

/** A bus traced into a fresh SDK, recording what its handlers receive. */
function tracedBus(options: ConstructorParameters<typeof EventBus>[0] = {}) {
  sdk = createSdk();
  bus = new EventBus({ ...options, telemetry: openTelemetry(sdk) });
  const seen: StoredEvent[] = [];
  bus.on('**', (event) => {
    seen.push(event);
  });
  return seen;
}

describe('publish', () => {
  it('is one PRODUCER span "publish <type>" in the caller\'s trace, whose context rides in meta.traceparent', async () => {
    const store = new MemoryEventStore();
    const seen = tracedBus({ store });
    const tracer = sdk.tracerProvider.getTracer('app');
    const result = await tracer.startActiveSpan('request', async (request) => {
      const published = await bus.publish({ type: 'task.created', stream: 'project-1', data: { id: 1 } });
      request.end();
      return published;
    });
    const [publish] = sdk.named('publish task.created');
    const [request] = sdk.named('request');
    expect(publish!.kind).toBe(SpanKind.PRODUCER);
    expect(publish!.parentSpanContext?.spanId).toBe(request!.spanContext().spanId);
    expect(publish!.spanContext().traceId).toBe(request!.spanContext().traceId);
    expect(publish!.attributes).toEqual({
      'messaging.system': 'busline',
      'messaging.destination.name': 'task.created',
      'messaging.operation.type': 'send',
      'messaging.operation.name': 'publish',
      'messaging.message.id': result.id,
      'messaging.busline.stream': 'project-1',
      'messaging.busline.publish.status': 'delivered',
    });
    expect(publish!.status.code).toBe(SpanStatusCode.UNSET);
    const { traceId, spanId } = publish!.spanContext();
    expect(seen[0]!.meta).toEqual({ traceparent: `00-${traceId}-${spanId}-01` });
    // The stored copy carries it too: a replay or another process reads it from the store.
    const { events } = await store.read({});
    expect(events[0]!.meta).toEqual(seen[0]!.meta);
  });

  it('records a duplicate and a rate-limited publish as such, not as failures', async () => {
    tracedBus({ rateLimit: { rate: 1, burst: 1, onLimit: 'drop' } });
    await bus.publish({ id: 'a', type: 'job', data: 1 });
    await bus.publish({ id: 'b', type: 'job', data: 2 });
    const statuses = sdk
      .named('publish job')
      .map((span) => span.attributes['messaging.busline.publish.status']);
    expect(statuses).toEqual(['delivered', 'rate_limited']);
    expect(sdk.named('publish job').every((span) => span.status.code === SpanStatusCode.UNSET)).toBe(true);
  });

  it('a publish that fails is an ERROR span with error.type, even before its event was stamped', async () => {
    tracedBus({ maxEventBytes: 200 });
    await expect(bus.publish({ type: 'big', data: 'x'.repeat(500) })).rejects.toThrow();
    await expect(bus.publish({ type: '', data: 1 })).rejects.toBeInstanceOf(InvalidEventError);
    const [tooLarge] = sdk.named('publish big');
    expect(tooLarge!.status).toEqual({ code: SpanStatusCode.ERROR, message: expect.stringContaining('200') });
    expect(tooLarge!.attributes['error.type']).toBe('EventTooLargeError');
    const [invalid] = sdk.named('publish');
    expect(invalid!.kind).toBe(SpanKind.PRODUCER);
    expect(invalid!.status.code).toBe(SpanStatusCode.ERROR);
    expect(invalid!.attributes['error.type']).toBe('InvalidEventError');
    expect(invalid!.attributes['messaging.destination.name']).toBeUndefined();
  });

  it("keeps a creation context the caller put in meta (the conventions' custom context), and links to it", async () => {
    const seen = tracedBus();
    const own = `00-${'ab'.repeat(16)}-${'cd'.repeat(8)}-01`;
    await bus.publish({ type: 'forwarded', data: 1, meta: { traceparent: own, tracestate: 'k=v' } });
    expect(seen[0]!.meta).toEqual({ traceparent: own, tracestate: 'k=v' });
    const [send] = sdk.named('publish forwarded');
    expect(send!.kind).toBe(SpanKind.CLIENT);
    expect(send!.links.map((link) => link.context.spanId)).toEqual(['cd'.repeat(8)]);
    expect(send!.links[0]!.context.traceState?.get('k')).toBe('v');
  });

  it('replaces a malformed traceparent in meta, and a stale tracestate with it', async () => {
    const seen = tracedBus();
    await bus.publish({
      type: 'a',
      data: 1,
      meta: { traceparent: 'garbage', tracestate: 'old=1', user: 'u1' },
    });
    expect(seen[0]!.meta!.traceparent).toMatch(TRACEPARENT);
    expect(seen[0]!.meta).toMatchObject({ tracestate: '', user: 'u1' });
  });
});

describe('publishBatch', () => {
  it('is a "create" span per event, injected into it, and one "send" span linking them with the batch count', async () => {
    const seen = tracedBus();
    const tracer = sdk.tracerProvider.getTracer('app');
    const results = await tracer.startActiveSpan('request', async (request) => {
      const published = await bus.publishBatch([
        { type: 'order.placed', data: 1 },
        { type: 'order.placed', data: 2 },
        { type: 'order.placed', data: 3 },
      ]);
      request.end();
      return published;
    });
    const [request] = sdk.named('request');
    const creates = sdk.named('create order.placed');
    const [send] = sdk.named('publish order.placed');
    expect(creates).toHaveLength(3);
    for (const [i, create] of creates.entries()) {
      expect(create.kind).toBe(SpanKind.PRODUCER);
      expect(create.parentSpanContext?.spanId).toBe(request!.spanContext().spanId);
      expect(create.attributes).toMatchObject({
        'messaging.operation.type': 'create',
        'messaging.message.id': results[i]!.id,
      });
      // Each event carries its own creation context: consumers of different events are told apart.
      expect(seen[i]!.meta!.traceparent).toBe(
        `00-${create.spanContext().traceId}-${create.spanContext().spanId}-01`,
      );
    }
    expect(send!.kind).toBe(SpanKind.CLIENT);
    expect(send!.parentSpanContext?.spanId).toBe(request!.spanContext().spanId);
    expect(send!.attributes).toMatchObject({
      'messaging.operation.type': 'send',
      'messaging.destination.name': 'order.placed',
      'messaging.batch.message_count': 3,
    });
    expect(send!.attributes['messaging.message.id']).toBeUndefined();
    expect(
      send!.links.map((link) => [link.context.spanId, link.attributes?.['messaging.message.id']]),
    ).toEqual(creates.map((create, i) => [create.spanContext().spanId, results[i]!.id]));
  });

  it('a batch of several types has no destination: its send span is plain "publish"', async () => {
    tracedBus();
    await bus.publishBatch([
      { type: 'a', data: 1 },
      { type: 'b', data: 2 },
    ]);
    const [send] = sdk.named('publish');
    expect(send!.attributes['messaging.destination.name']).toBeUndefined();
    expect(send!.attributes['messaging.batch.message_count']).toBe(2);
    expect(sdk.named('create a')).toHaveLength(1);
    expect(sdk.named('create b')).toHaveLength(1);
  });
});

describe('sampled out', () => {
  it('records no span but still propagates the not-sampled decision', async () => {
    sdk = createSdk({ sampled: false });
    bus = new EventBus({ telemetry: openTelemetry(sdk) });
    const seen: StoredEvent[] = [];
    bus.on('a', (event) => {
      seen.push(event);
      expect(trace.getActiveSpan()?.isRecording()).toBe(false);
    });
    await bus.publish({ type: 'a', data: 1 });
    expect(sdk.spans()).toEqual([]);
    expect(seen[0]!.meta!.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/);
  });

  it('without any SDK (the API alone) adds nothing to events', async () => {
    sdk = createSdk();
    bus = new EventBus({ telemetry: openTelemetry() });
    const seen: StoredEvent[] = [];
    bus.on('a', (event) => {
      seen.push(event);
    });
    await bus.publish({ type: 'a', data: 1 });
    await bus.publishBatch([{ type: 'a', data: 2 }]);
    expect(seen.map((event) => event.meta)).toEqual([undefined, undefined]);
  });
});
