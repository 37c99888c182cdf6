import { type ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, expect, it } from 'vitest';
import { connectNodeRedis, deletePrefix, uniquePrefix } from '../redis/store/redis-fixtures.js';

/**
 * Issue #16: a handler in another process joins the publisher's trace. Two real processes
 * share a Redis store; A publishes inside a `request` span; B's `on()` handler and consumer
 * group each process the event. Each exports its spans from an in-memory exporter; the trace
 * context crossed only through the event's meta in Redis.
 */
const script = resolve(import.meta.dirname, 'traced-process.ts');
const prefix = uniquePrefix('otel-cross-process');
const children: ChildProcess[] = [];

interface ExportedSpan {
  name: string;
  kind: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  links: { traceId: string; spanId: string }[];
  attributes: Record<string, unknown>;
}

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  const client = await connectNodeRedis();
  await deletePrefix(client, prefix);
  await client.quit();
});

function start(role: 'publisher' | 'consumer') {
  const child = spawn(process.execPath, ['--import', 'tsx', script, role, prefix], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  children.push(child);
  const lines = createInterface({ input: child.stdout! });
  const line = (prefix: string) =>
    new Promise<string>((resolve, reject) => {
      lines.on('line', (text) => {
        if (text.startsWith(prefix)) resolve(text.slice(prefix.length));
      });
      child.on('exit', (code) => reject(new Error(`${role} exited (${code}) before "${prefix}"`)));
    });
  const ready = line('ready');
  const spans = line('spans ').then((json) => JSON.parse(json) as ExportedSpan[]);
  return { child, ready, spans };
}

it("a handler and a consumer group in another process join the publisher's trace through Redis", async () => {
  const consumer = start('consumer');
  const publisher = start('publisher');
  await Promise.all([consumer.ready, publisher.ready]);
  publisher.child.stdin!.write('publish\n');
  const [a, b] = await Promise.all([publisher.spans, consumer.spans]);

  const named = (spans: ExportedSpan[], name: string) => {
    const found = spans.filter((span) => span.name === name);
    expect(found, name).toHaveLength(1);
    return found[0]!;
  };
  const request = named(a, 'request');
  const publish = named(a, 'publish order.placed');
  expect(publish).toMatchObject({ kind: 'PRODUCER', traceId: request.traceId, parentSpanId: request.spanId });

  // on(): a child of A's publish span, in A's trace; the handler's own span is the process span's child.
  const processed = b.filter((span) => span.name === 'process order.placed');
  expect(processed).toHaveLength(2);
  const handlerSpan = processed.find(
    (span) => span.attributes['messaging.consumer.group.name'] === undefined,
  );
  const groupSpan = processed.find((span) => span.attributes['messaging.consumer.group.name'] !== undefined);
  expect(handlerSpan).toMatchObject({
    kind: 'CONSUMER',
    traceId: request.traceId,
    parentSpanId: publish.spanId,
    links: [{ traceId: request.traceId, spanId: publish.spanId }],
  });
  expect(named(b, 'on() work')).toMatchObject({
    traceId: request.traceId,
    parentSpanId: handlerSpan!.spanId,
  });

  // The group delivery: a trace of its own, linked to A's publish span.
  expect(groupSpan).toMatchObject({
    kind: 'CONSUMER',
    links: [{ traceId: request.traceId, spanId: publish.spanId }],
    attributes: expect.objectContaining({
      'messaging.consumer.group.name': 'billing',
      'messaging.busline.message.delivery_count': 1,
      'messaging.busline.message.disposition': 'ack',
      'messaging.message.id': publish.attributes['messaging.message.id'],
      'messaging.busline.stream': 'customer-7',
    }),
  });
  expect(groupSpan!.parentSpanId).toBeUndefined();
  expect(groupSpan!.traceId).not.toBe(request.traceId);
  expect(named(b, 'group work')).toMatchObject({
    traceId: groupSpan!.traceId,
    parentSpanId: groupSpan!.spanId,
  });
});
