import { afterEach, describe, expect, it } from 'vitest';
import { EventBus } from '../../src/index.js';
import { openTelemetry } from '../../src/otel/index.js';
import { deferred, eventually } from '../groups/support.js';
import { SharedMemoryStore } from '../support/shared-memory-store.js';
import { createSdk, histogramPoints, points, type Sdk } from './otel-sdk.js';

let sdk: Sdk;
let bus: EventBus;

afterEach(async () => {
  await bus.close({ timeoutMs: 100 });
  await sdk.shutdown();
});

const send = {
  'messaging.system': 'busline',
  'messaging.operation.name': 'publish',
  'messaging.operation.type': 'send',
};
const process = {
  'messaging.system': 'busline',
  'messaging.operation.name': 'process',
  'messaging.operation.type': 'process',
};

describe('the messaging metrics of the conventions', () => {
  it('messaging.client.sent.messages counts every event a publish tried to send, per type, with error.type when it failed', async () => {
    sdk = createSdk();
    bus = new EventBus({ telemetry: openTelemetry(sdk), maxEventBytes: 300 });
    await bus.publish({ type: 'a', data: 1 });
    await bus.publishBatch([
      { type: 'a', data: 2 },
      { type: 'b', data: 3 },
    ]);
    await expect(bus.publish({ type: 'b', data: 'x'.repeat(400) })).rejects.toThrow();
    // Invalid input never reached the sending stage: not counted.
    await expect(bus.publish({ type: '', data: 1 })).rejects.toThrow();
    const sent = points((await sdk.metrics()).get('messaging.client.sent.messages'));
    expect(sent).toEqual(
      expect.arrayContaining([
        [{ ...send, 'messaging.destination.name': 'a' }, 2],
        [{ ...send, 'messaging.destination.name': 'b' }, 1],
        [{ ...send, 'messaging.destination.name': 'b', 'error.type': 'EventTooLargeError' }, 1],
      ]),
    );
    expect(sent).toHaveLength(3);
  });

  it('messaging.client.consumed.messages and messaging.process.duration (seconds) per handler call and group delivery', async () => {
    sdk = createSdk();
    bus = new EventBus({ telemetry: openTelemetry(sdk), onError: () => {} });
    const slow = deferred();
    bus.on('job.*', () => slow.promise);
    bus.on('job.run', () => {
      throw new Error('no');
    });
    let deliveries = 0;
    await bus.consume(
      'job.*',
      () => {
        deliveries++;
      },
      { group: 'workers' },
    );
    await bus.publish({ type: 'job.run', data: 1 });
    await eventually(() => deliveries === 1, 'the group delivery');
    // A call is measured when it settles: 30 ms of work is about 0.03 (seconds, not milliseconds).
    await new Promise((resolve) => setTimeout(resolve, 30));
    slow.resolve();
    await bus.drain();
    const collected = await sdk.metrics();
    const handler = { ...process, 'messaging.destination.name': 'job.run' };
    const group = { ...handler, 'messaging.consumer.group.name': 'workers' };
    expect(points(collected.get('messaging.client.consumed.messages'))).toEqual(
      expect.arrayContaining([
        [handler, 2],
        [group, 1],
      ]),
    );
    const durations = histogramPoints(collected.get('messaging.process.duration'));
    expect(durations).toHaveLength(3);
    const ok = durations.find(
      ([attributes]) =>
        attributes['messaging.consumer.group.name'] === undefined && !attributes['error.type'],
    );
    const failed = durations.find(([attributes]) => attributes['error.type'] === 'Error');
    expect(ok![1]).toBe(1);
    expect(ok![2]).toBeGreaterThanOrEqual(0.025);
    expect(ok![2]).toBeLessThan(10);
    expect(failed![0]).toEqual({ ...handler, 'error.type': 'Error' });
    expect(
      durations.find(([attributes]) => attributes['messaging.consumer.group.name'] === 'workers')![1],
    ).toBe(1);
    expect(collected.get('messaging.process.duration')!.descriptor.unit).toBe('s');
  });
});

describe("busline's own metrics, read from stats() when the meter collects", () => {
  it('reports published, delivered, duplicates, rate limited, dropped, handler errors and the pending and buffered levels', async () => {
    sdk = createSdk();
    bus = new EventBus({
      telemetry: openTelemetry(sdk),
      rateLimit: { rate: 2, burst: 2, onLimit: 'drop' },
      onError: () => {},
    });
    const blocked = deferred();
    bus.on('a', () => blocked.promise);
    bus.on('a', () => {
      throw new Error('x');
    });
    const iterator = bus.subscribe('a', { bufferSize: 1, overflow: 'drop-newest' });
    await bus.publish({ id: 'e1', type: 'a', data: 1 });
    await bus.publish({ id: 'e1', type: 'a', data: 1 });
    await bus.publish({ id: 'e2', type: 'a', data: 2 });
    await bus.publish({ id: 'e3', type: 'a', data: 3 });
    const stats = bus.stats();
    const collected = await sdk.metrics();
    const value = (name: string) => points(collected.get(name))[0]?.[1];
    expect({
      published: value('busline.events.published'),
      delivered: value('busline.deliveries'),
      duplicates: value('busline.events.duplicate'),
      rateLimited: value('busline.events.rate_limited'),
      dropped: value('busline.events.dropped'),
      handlerErrors: value('busline.handler.errors'),
      pendingHandlers: value('busline.handler.pending'),
      subscriptions: value('busline.subscription.count'),
      buffered: value('busline.subscription.buffered'),
      catchingUp: value('busline.subscription.catching_up'),
    }).toEqual({
      published: stats.published,
      delivered: stats.delivered,
      duplicates: stats.duplicates,
      rateLimited: stats.rateLimited,
      dropped: stats.dropped,
      handlerErrors: stats.handlerErrors,
      pendingHandlers: stats.pendingHandlers,
      subscriptions: stats.subscriptions,
      buffered: stats.buffered,
      catchingUp: stats.catchingUp,
    });
    // The scenario moved every one of them off zero (catch-ups need a store reader: not here).
    expect(stats).toMatchObject({ published: 2, duplicates: 1, rateLimited: 1, subscriptions: 3 });
    expect(stats.dropped).toBeGreaterThan(0);
    expect(stats.handlerErrors).toBe(2);
    expect(stats.pendingHandlers).toBeGreaterThan(0);
    expect(stats.buffered).toBeGreaterThan(0);
    blocked.resolve();
    await iterator.return();
  });

  it('sums the buses attached to one openTelemetry()', async () => {
    sdk = createSdk();
    const telemetry = openTelemetry(sdk);
    bus = new EventBus({ telemetry });
    const other = new EventBus({ telemetry });
    await bus.publish({ type: 'a', data: 1 });
    await other.publish({ type: 'a', data: 1 });
    await other.publish({ type: 'a', data: 1 });
    expect(points((await sdk.metrics()).get('busline.events.published'))).toEqual([[{}, 3]]);
    // A closed bus is let go: the process's numbers are the open buses' again.
    await other.close();
    expect(points((await sdk.metrics()).get('busline.events.published'))).toEqual([[{}, 1]]);
  });

  it('reports subscriptions catching up and their lag in events', async () => {
    sdk = createSdk();
    bus = new EventBus({ telemetry: openTelemetry(sdk) });
    const slow = bus.subscribe('a', { bufferSize: 4 });
    for (let n = 1; n <= 10; n++) await bus.publish({ type: 'a', data: n });
    const collected = await sdk.metrics();
    const value = (name: string) => points(collected.get(name))[0]?.[1];
    expect(bus.stats()).toMatchObject({ catchingUp: 1, catchUpLag: 6 });
    expect(value('busline.subscription.catching_up')).toBe(1);
    expect(value('busline.subscription.catch_up.lag')).toBe(6);
    await slow.return();
  });

  it("reports each consumer group's pending and dead-letter counts (from bus.health())", async () => {
    sdk = createSdk();
    bus = new EventBus({ telemetry: openTelemetry(sdk), onError: () => {} });
    const held = deferred();
    await bus.consume('job.*', () => held.promise, { group: 'slow' });
    await bus.consume(
      'job.*',
      () => {
        throw new Error('broken');
      },
      { group: 'broken', maxDeliveries: 1 },
    );
    await bus.publishBatch([1, 2, 3].map((n) => ({ type: 'job.run', data: n })));
    await eventually(() => bus.stats().published === 3, 'published');
    const metrics = async () => {
      const all = await sdk.metrics();
      return {
        pending: points(all.get('busline.group.pending')),
        dead: points(all.get('busline.group.dead_letters')),
      };
    };
    let seen = await metrics();
    for (let i = 0; i < 200 && !seen.dead.some(([, n]) => n === 3); i++) {
      await new Promise((resolve) => setTimeout(resolve, 5));
      seen = await metrics();
    }
    const group = (name: string) => ({ 'messaging.consumer.group.name': name });
    // `slow` handles one at a time (concurrency 1): one delivery held, not yet acknowledged.
    expect(seen.pending).toEqual(
      expect.arrayContaining([
        [group('slow'), 1],
        [group('broken'), 0],
      ]),
    );
    expect(seen.dead).toEqual(
      expect.arrayContaining([
        [group('slow'), 0],
        [group('broken'), 3],
      ]),
    );
    held.resolve();
  });

  it("reports a shared store's feed lag: how late the last event it delivered arrived", async () => {
    sdk = createSdk();
    const store = new SharedMemoryStore();
    bus = new EventBus({ store, telemetry: openTelemetry(sdk) });
    bus.on('a', () => {});
    await bus.ready();
    expect((await sdk.metrics()).get('busline.feed.lag')).toBeUndefined();
    const other = new EventBus({ store });
    // Stamped 250 ms in the past by its publisher: the feed delivers it at least that late.
    await other.publish({ type: 'a', data: 1, time: Date.now() - 250 });
    await eventually(() => bus.stats().delivered === 1, 'the event through the feed');
    const [[attributes, lag]] = points((await sdk.metrics()).get('busline.feed.lag')) as [[object, number]];
    expect(attributes).toEqual({});
    expect(lag).toBeGreaterThanOrEqual(250);
    await other.close();
  });
});
