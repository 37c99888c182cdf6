/**
 * One process of the cross-process tracing test: a bus on a shared RedisEventStore, traced by
 * busline/otel into a real SDK (in-memory exporter, AsyncLocalStorage context). Roles:
 *   `publisher`: on `publish` (stdin), publishes `order.placed` inside an active `request` span;
 *   `consumer`:  an `on()` handler and a consumer group `billing` on `order.placed`, each
 *                starting a span of its own inside its process span.
 * Either prints `ready` once set up, then `spans <json>` (its finished spans) when done, and exits.
 */
import { createInterface } from 'node:readline';
import { context, SpanKind } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { createClient } from 'redis';
import { EventBus } from '../../src/index.js';
import { openTelemetry } from '../../src/otel/index.js';
import { RedisEventStore } from '../../src/redis/index.js';

const [role, prefix] = process.argv.slice(2) as ['publisher' | 'consumer', string];

context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
const exporter = new InMemorySpanExporter();
const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const app = tracerProvider.getTracer('app');

const client = createClient({ url: 'redis://127.0.0.1:6379' });
client.on('error', () => {});
await client.connect();
const bus = new EventBus({
  store: new RedisEventStore({ client, prefix, groupPollMs: 50 }),
  telemetry: openTelemetry({ tracerProvider }),
});
const say = (line: string) => process.stdout.write(`${line}\n`);

/** What the parent compares: ids, relations, names and attributes. */
function exported(span: ReadableSpan) {
  return {
    name: span.name,
    kind: SpanKind[span.kind],
    traceId: span.spanContext().traceId,
    spanId: span.spanContext().spanId,
    parentSpanId: span.parentSpanContext?.spanId,
    links: span.links.map((link) => ({ traceId: link.context.traceId, spanId: link.context.spanId })),
    attributes: span.attributes,
  };
}

async function finish(): Promise<never> {
  await bus.close();
  await client.quit();
  say(`spans ${JSON.stringify(exporter.getFinishedSpans().map(exported))}`);
  process.exit(0);
}

if (role === 'consumer') {
  let handled = 0;
  const handle = (work: string) => async () => {
    app.startSpan(work).end();
    if (++handled === 2) setImmediate(finish);
  };
  bus.on('order.placed', handle('on() work'));
  await bus.consume('order.placed', handle('group work'), { group: 'billing' });
  await bus.ready();
  say('ready');
} else {
  await bus.ready();
  say('ready');
  for await (const line of createInterface({ input: process.stdin })) {
    if (line !== 'publish') continue;
    await app.startActiveSpan('request', async (request) => {
      await bus.publish({ type: 'order.placed', stream: 'customer-7', data: { total: 42 } });
      request.end();
    });
    await finish();
  }
}
