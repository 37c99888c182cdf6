// The SSE dashboard's server: the page at /, the event stream at /events?pattern=…, and
// POST /publish. Events live in a FileEventStore, so a restarted server (even one killed
// with SIGKILL) resumes every page from its Last-Event-ID with nothing missing or repeated.
// Requests must name the dashboard in Host, and writes must be same-origin JSON (request-guard.ts).
//
//   npx tsup --silent && node --import tsx examples/sse-dashboard/server.ts
//   (PORT, HOST, STORE_FILE, ALLOWED_HOSTS: extra `name:port` Hosts, comma-separated)
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BusEvent, EventBus } from 'busline';
import { createSSEHandler } from 'busline/sse';
import { FileEventStore } from './file-event-store.js';
import { allowedHosts, checkHost, checkWrite, type Refusal } from './request-guard.js';

const port = Number(process.env.PORT ?? 8080);
const host = process.env.HOST ?? '127.0.0.1';
const storePath = process.env.STORE_FILE ?? join(tmpdir(), 'busline-sse-dashboard.jsonl');
const MAX_BODY_BYTES = 1024 * 1024;
/** node's defaults are 60 s for the headers and 300 s for a request: a trickling client held a socket that long. */
const HEADERS_TIMEOUT_MS = 10_000;
const REQUEST_TIMEOUT_MS = 30_000; // the request only: an SSE response streams on after it
/** Open sockets, SSE streams included; node closes any further one at once. */
const MAX_CONNECTIONS = 256;
const extraHosts = (process.env.ALLOWED_HOSTS ?? '').split(',').filter(Boolean);
let hosts = allowedHosts(port, host, extraHosts);

const store = new FileEventStore({ path: storePath });
const bus = new EventBus({ store });
const page = readFileSync(join(import.meta.dirname, 'index.html'));

const events = createSSEHandler(bus, {
  // One `pattern` parameter per pattern (what sseEvents sends for an array); none: everything.
  pattern: (req) => {
    const patterns = queryOf(req).getAll('pattern').filter(Boolean);
    return patterns.length === 0 ? '**' : patterns;
  },
  // No `event:` line: EventSource has no wildcard listener, so every bus event comes to `onmessage`.
  named: false,
  retryMs: 500,
});

const timeouts = {
  headersTimeout: HEADERS_TIMEOUT_MS,
  requestTimeout: REQUEST_TIMEOUT_MS,
  connectionsCheckingInterval: 1000, // node checks both timeouts this often (30 s by default)
};
const server = createServer(timeouts, (req, res) => {
  const path = (req.url ?? '/').split('?')[0];
  const refused = checkHost(req, hosts) ?? (req.method === 'POST' ? checkWrite(req, hosts) : undefined);
  if (refused) {
    refuse(req, res, refused);
  } else if (req.method === 'GET' && (path === '/' || path === '/index.html')) {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache' });
    res.end(page);
  } else if (req.method === 'GET' && path === '/events') {
    const header = req.headers['last-event-id'];
    const query = queryOf(req).get('lastEventId');
    log({
      connect: queryOf(req).get('pattern') || '**',
      lastEventId: header || query || null,
      via: header ? 'header' : query ? 'query' : null,
    });
    events(req, res);
  } else if (req.method === 'POST' && path === '/publish') {
    publish(req, res).catch((error: unknown) => reply(res, 500, { error: String(error) }));
  } else {
    reply(res, 404, { error: `No route for ${req.method} ${path}` });
  }
});

/** Body: one event `{ type, data, stream?, id?, meta? }` or an array of them, published as one batch. */
async function publish(req: IncomingMessage, res: ServerResponse): Promise<void> {
  req.setEncoding('utf8');
  let body = '';
  for await (const chunk of req) {
    body += chunk;
    if (body.length > MAX_BODY_BYTES) {
      res.setHeader('connection', 'close'); // do not drain the rest
      return reply(res, 413, { error: `Body over ${MAX_BODY_BYTES} bytes` });
    }
  }
  let input: unknown;
  try {
    input = JSON.parse(body);
  } catch {
    return reply(res, 400, { error: 'Expected a JSON body' });
  }
  try {
    const batch = (Array.isArray(input) ? input : [input]) as BusEvent[];
    reply(res, 200, await bus.publishBatch(batch));
  } catch (error) {
    const { code, message } = error as { code?: string; message: string };
    reply(res, code ? 400 : 500, { error: message, code });
  }
}

function refuse(req: IncomingMessage, res: ServerResponse, { status, reason }: Refusal): void {
  log({ refused: status, method: req.method, url: req.url, reason });
  res.setHeader('connection', 'close'); // the body, if any, is not read
  reply(res, status, { error: reason });
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent || res.destroyed) return; // e.g. the client went away mid-body
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

function queryOf(req: { url?: string | undefined }): URLSearchParams {
  const at = (req.url ?? '').indexOf('?');
  return new URLSearchParams(at === -1 ? '' : req.url!.slice(at + 1));
}

/** One JSON object per line on stdout: the test reads them. */
function log(entry: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(entry)}\n`);
}

server.maxConnections = MAX_CONNECTIONS;
server.listen(port, host, () => {
  const address = server.address();
  const listening = typeof address === 'object' && address !== null ? address.port : port;
  hosts = allowedHosts(listening, host, extraHosts); // PORT=0: the port is known only now
  log({ listening, store: storePath });
});

// A clean stop ends the streams (browsers reconnect) and releases the store's lock file.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    server.close();
    server.closeAllConnections();
    setTimeout(() => process.exit(1), 2000).unref(); // never hang on the way out
    // The bus closes only a store it made: this one is ours to close.
    void bus
      .close()
      .then(() => store.close())
      .then(() => process.exit(0));
  });
}
