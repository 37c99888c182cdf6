// One fetch handler, `(request: Request) => Promise<Response>`, that Node, Bun, Deno and
// Cloudflare Workers all serve unchanged (see the entry files next to it):
//
//   GET  /events?pattern=task.*[&pattern=…]   the bus as Server-Sent Events (sseStream): replay
//                                              after Last-Event-ID (header, or ?lastEventId=), then live
//   POST /publish                              one event or an array of them (JSON), published as one batch
//   GET  /stats                                { subscriptions }: the streams open now
//   GET  /healthz                              bus.health(): 200 when ok, else 503 (a readiness probe)
//
// Web APIs only: no node: import, no Buffer, no process.
import type { BusEvent, EventBus } from 'busline';
import { sseStream } from 'busline/sse';

export interface AppOptions {
  /** The `retry:` the stream sends first: how long a client waits before it reconnects. */
  retryMs?: number;
  /** A `: ping` comment after this long without events. @default 15000 */
  heartbeatMs?: number;
}

/** Bodies past this are refused with 413 before they are parsed. */
const MAX_BODY_BYTES = 1024 * 1024;

export function createApp(bus: EventBus, options: AppOptions = {}): (request: Request) => Promise<Response> {
  return async (request) => {
    const url = new URL(request.url);
    if (request.method === 'GET' && url.pathname === '/events') return events(bus, request, url, options);
    if (request.method === 'POST' && url.pathname === '/publish') return publish(bus, request);
    if (request.method === 'GET' && url.pathname === '/stats')
      return json(200, { subscriptions: bus.stats().subscriptions });
    if (request.method === 'GET' && url.pathname === '/healthz') {
      // Not ready (503) while the store does not answer or the shared feed is not positioned.
      const health = await bus.health({ timeoutMs: 1000 });
      return json(health.ok ? 200 : 503, health);
    }
    return json(404, { error: `No route for ${request.method} ${url.pathname}` });
  };
}

function events(bus: EventBus, request: Request, url: URL, options: AppOptions): Response {
  const patterns = url.searchParams.getAll('pattern');
  try {
    const body = sseStream(bus, {
      pattern: patterns.length === 0 ? '**' : patterns,
      // EventSource and sseEvents send the header; a page reconnecting by hand can use the query.
      lastEventId: request.headers.get('last-event-id') ?? url.searchParams.get('lastEventId'),
      retryMs: options.retryMs,
      heartbeatMs: options.heartbeatMs,
      // The runtime aborts it when the client goes away: the subscription is released.
      signal: request.signal,
    });
    return new Response(body, {
      headers: {
        'content-type': 'text/event-stream',
        'cache-control': 'no-cache',
        'x-accel-buffering': 'no',
      },
    });
  } catch (error) {
    // A bad pattern or option throws before anything is streamed: the client's mistake.
    return json(400, { error: (error as Error).message, code: (error as { code?: string }).code });
  }
}

async function publish(bus: EventBus, request: Request): Promise<Response> {
  // Only JSON: a cross-site form cannot send it without a CORS preflight, which this never answers.
  if (!(request.headers.get('content-type') ?? '').startsWith('application/json'))
    return json(415, { error: 'Expected content-type: application/json' });
  if (Number(request.headers.get('content-length') ?? 0) > MAX_BODY_BYTES)
    return json(413, { error: `Body over ${MAX_BODY_BYTES} bytes` });
  const text = await request.text();
  if (text.length > MAX_BODY_BYTES) return json(413, { error: `Body over ${MAX_BODY_BYTES} bytes` });
  let input: unknown;
  try {
    input = JSON.parse(text);
  } catch {
    return json(400, { error: 'Expected a JSON body' });
  }
  try {
    return json(200, await bus.publishBatch((Array.isArray(input) ? input : [input]) as BusEvent[]));
  } catch (error) {
    const { code, message } = error as { code?: string; message: string };
    return json(code ? 400 : 500, { error: message, code });
  }
}

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}
