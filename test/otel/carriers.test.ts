import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, expect, it } from 'vitest';
import { EventBus, type StoredEvent } from '../../src/index.js';
import { openTelemetry } from '../../src/otel/index.js';
import { RedisEventStore } from '../../src/redis/index.js';
import { createSSEHandler, sseEvents } from '../../src/sse/index.js';
import { eventually } from '../groups/support.js';
import { connectNodeRedis, deletePrefix, uniquePrefix } from '../redis/store/redis-fixtures.js';
import { createSdk } from './otel-sdk.js';

/**
 * The trace context rides in `event.meta` wherever the event goes. The memory store, retries,
 * dead letters and redrives are covered in process-spans.test.ts, the Redis feed in
 * cross-process.test.ts, the PostgreSQL example store in its own test; here: SSE frames, and
 * a dead letter of a consumer group on Redis.
 */

const client = await connectNodeRedis();
const prefix = uniquePrefix('otel-carriers');
afterAll(async () => {
  await deletePrefix(client, prefix);
  await client.quit();
});

/** The traceparent busline/otel injected for a publish: its PRODUCER span's context. */
function producerContext(sdk: ReturnType<typeof createSdk>, type: string): string {
  const [span] = sdk.named(`publish ${type}`);
  const { traceId, spanId } = span!.spanContext();
  return `00-${traceId}-${spanId}-01`;
}

it('an SSE client gets the trace context in the event it reads', async () => {
  const sdk = createSdk();
  const bus = new EventBus({ telemetry: openTelemetry(sdk) });
  const handler = createSSEHandler(bus, { pattern: 'order.*', heartbeatMs: 0 });
  const server: Server = createServer((req, res) => void handler(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const controller = new AbortController();
  try {
    const events = sseEvents(`http://127.0.0.1:${port}/`, { signal: controller.signal });
    const first = events.next();
    await eventually(() => bus.stats().subscriptions === 1, 'the stream subscribed');
    await bus.publish({ type: 'order.placed', data: { orderId: 7 } });
    const { value } = await first;
    expect((value as StoredEvent).meta).toEqual({ traceparent: producerContext(sdk, 'order.placed') });
  } finally {
    controller.abort();
    await bus.close({ timeoutMs: 100 });
    await new Promise((resolve) => server.close(resolve));
    await sdk.shutdown();
  }
});

it('a dead letter of a consumer group on Redis keeps the trace context, and so does its redrive', async () => {
  const sdk = createSdk();
  const bus = new EventBus({ store: new RedisEventStore({ client, prefix }), telemetry: openTelemetry(sdk) });
  const seen: StoredEvent[] = [];
  let fixed = false;
  await bus.consume(
    'job.*',
    (event) => {
      seen.push(event);
      if (!fixed) throw new Error('broken');
    },
    { group: 'workers', maxDeliveries: 2, retryDelayMs: 1 },
  );
  await bus.publish({ type: 'job.run', data: 1 });
  const traceparent = producerContext(sdk, 'job.run');
  const letters = bus.deadLetters('workers');
  for (let i = 0; i < 500 && (await letters.list()).length === 0; i++)
    await new Promise((resolve) => setTimeout(resolve, 5));
  const [letter] = await letters.list();
  expect(letter!.event.meta).toEqual({ traceparent });
  // Both failed deliveries carried it too.
  expect(seen.map((event) => event.meta?.traceparent)).toEqual([traceparent, traceparent]);
  fixed = true;
  expect(await letters.redrive()).toBe(1);
  await eventually(() => seen.length === 3, 'the redriven delivery');
  expect(seen[2]!.meta).toEqual({ traceparent });
  await bus.close({ timeoutMs: 100 });
  await sdk.shutdown();
});
