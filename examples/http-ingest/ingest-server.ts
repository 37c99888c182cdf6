/**
 * HTTP batch ingest (seed 000's `POST /api/events`): an API key checked in constant time,
 * the batch validated with zod, a rate limit per API key, each event size-limited, then
 * published with one `publishBatch` so dedup applies. The response lists one result per
 * event. A bad body gets a 400 and nothing of it is ingested.
 *
 * Trust: the API key is the only thing the server verifies. Everything in the body is the
 * client's claim, so nothing that protects one key from another is taken from it: the rate
 * limit is keyed by the key's id, event ids are namespaced by it, and `meta.key_id` names it.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { BuslineError, type EventBus, type EventInput, RateLimiter, type RateLimiterOptions } from 'busline';
import { z } from 'zod';
import { ApiKeyRing, type ApiKeys } from './api-keys.js';
import { readBody } from './read-body.js';

/** Every bound of the server, with its default, in one place. */
export const INGEST_DEFAULTS = {
  /** Largest request body. */
  maxBodyBytes: 1024 * 1024,
  /** Events per batch (seed 000's bridge sends 10). Also capped at the rate limit's burst. */
  maxBatch: 1000,
  /** From the end of the headers to the last body byte. */
  bodyTimeoutMs: 10_000,
  /** node's `headersTimeout`: all request headers within 10 s (node's default is 60 s). */
  headersTimeoutMs: 10_000,
  /** node's `requestTimeout`: the whole request within 30 s (node's default is 300 s). */
  requestTimeoutMs: 30_000,
  /** Open connections at most; node closes any further one at once. */
  maxConnections: 256,
  /** Per API key (seed 000: 1,000 events/s). */
  rateLimit: { rate: 1000, intervalMs: 1000 } satisfies RateLimiterOptions,
  /** Earliest accepted `timestamp`: 2000-01-01. Anything older is almost surely seconds sent as milliseconds. */
  minTime: Date.UTC(2000, 0, 1),
  /** Latest accepted `timestamp`, ahead of the server clock (clock skew). */
  maxFutureMs: 24 * 60 * 60 * 1000,
} as const;

export interface IngestOptions {
  bus: EventBus;
  /** `{ id: key }` (recommended) or a list of keys; see `ApiKeys`. */
  apiKeys: ApiKeys;
  maxBodyBytes?: number;
  maxBatch?: number;
  bodyTimeoutMs?: number;
  headersTimeoutMs?: number;
  requestTimeoutMs?: number;
  maxConnections?: number;
  /** Token bucket per API key; `false` turns it off. @default { rate: 1000, intervalMs: 1000 } */
  rateLimit?: RateLimiterOptions | false;
  /** @default Date.now */
  clock?: () => number;
}

/** The wire format of seed 000's Python bridge. */
function ingestBody(maxBatch: number, clock: () => number) {
  const IncomingEvent = z.object({
    // Stored as `<key id>:<id>`: room is left for the prefix within the bus's 256 characters.
    id: z.string().min(1).max(160).optional(),
    type: z.string().min(1).max(256),
    content: z.string().optional(),
    timestamp: z
      .number()
      .finite()
      .min(INGEST_DEFAULTS.minTime)
      .refine((t) => t <= clock() + INGEST_DEFAULTS.maxFutureMs, 'more than 24 h ahead of the server clock')
      .optional(),
    operation_id: z.string().min(1).max(256),
    session_id: z.string().max(256).optional(),
    user_id: z.string().max(256).optional(),
    data: z.unknown().optional(),
  });
  return z.object({ events: z.array(IncomingEvent).min(1).max(maxBatch) });
}
type IncomingEvent = z.infer<ReturnType<typeof ingestBody>>['events'][number];

export function createIngestServer(options: IngestOptions): Server {
  const { bus } = options;
  const o = { ...INGEST_DEFAULTS, ...options };
  const keys = new ApiKeyRing(options.apiKeys);
  const limiter = o.rateLimit === false ? undefined : new RateLimiter(o.rateLimit);
  const IngestBody = ingestBody(Math.min(o.maxBatch, limiter?.burst ?? Infinity), o.clock ?? Date.now);

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // Answers before the body is read close the connection: node would otherwise drain any body.
    if (req.method !== 'POST' || req.url !== '/api/events')
      return reply(res, 404, { error: 'Not found' }, true);
    const keyId = keys.identify(req.headers['x-api-key']);
    if (keyId === undefined) return reply(res, 401, { error: 'Invalid or missing X-API-Key' }, true);
    if (!isJson(req.headers['content-type']))
      return reply(res, 415, { error: 'Expected content-type: application/json' }, true);
    const read = await readBody(req, o.maxBodyBytes, o.bodyTimeoutMs);
    if (!read.ok) {
      if (read.reason === 'aborted') return; // nobody is left to answer
      if (read.reason === 'timeout')
        return reply(res, 408, { error: `Body not received within ${o.bodyTimeoutMs} ms` }, true);
      return reply(res, 413, { error: `Body larger than ${o.maxBodyBytes} bytes` }, true);
    }
    let json: unknown;
    try {
      json = JSON.parse(read.body);
    } catch {
      return reply(res, 400, { error: 'Body is not valid JSON' });
    }
    const parsed = IngestBody.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      return reply(res, 400, { error: `Invalid batch at "${issue.path.join('.')}": ${issue.message}` });
    }
    const events = parsed.data.events.map((event) => toBusEvent(event, keyId));
    // All or nothing per batch: the bridge retries a whole batch, and dedup makes that safe.
    if (limiter && !limiter.tryTake(keyId, events.length)) {
      const seconds = Math.ceil((events.length / limiter.rate) * (limiter.intervalMs / 1000));
      res.setHeader('retry-after', String(seconds));
      return reply(res, 429, {
        error: `Rate limit of ${limiter.rate} events per ${limiter.intervalMs} ms reached for key "${keyId}"`,
        results: events.map(({ id }) => ({ id, status: 'rate_limited' })),
      });
    }
    try {
      const results = await bus.publishBatch(events);
      reply(res, 200, { results: results.map(({ id, status, cursor }) => ({ id, status, cursor })) });
    } catch (error) {
      if (!(error instanceof BuslineError)) throw error;
      // The store or the bus failed, not the batch: the bridge should retry later.
      const unavailable = ['STORE_UNAVAILABLE', 'TIMEOUT', 'CLOSED'].includes(error.code);
      // Otherwise publishBatch rejected the input, having validated every event first: none was published.
      reply(res, unavailable ? 503 : 400, { error: error.message, code: error.code });
    }
  }

  const server = createServer(
    {
      headersTimeout: o.headersTimeoutMs,
      requestTimeout: o.requestTimeoutMs,
      // node checks both timeouts on this interval (30 s by default), which would stretch them.
      connectionsCheckingInterval: Math.min(1000, o.headersTimeoutMs),
    },
    (req, res) => {
      req.on('error', () => {}); // a reset mid-request is the client's business; readBody reports it
      handle(req, res).catch(() => {
        if (!res.headersSent) reply(res, 500, { error: 'Ingest failed' }, true);
        else res.destroy();
      });
    },
  );
  server.maxConnections = o.maxConnections;
  return server;
}

function toBusEvent(event: IncomingEvent, keyId: string): EventInput {
  const meta: Record<string, string> = { key_id: keyId }; // set by the server, never from the body
  if (event.session_id) meta.session_id = event.session_id;
  if (event.user_id) meta.user_id = event.user_id;
  return {
    // A client's id lives in its key's namespace: another key cannot take it first.
    // Omitted: the bus generates a UUIDv7, which no client can choose.
    id: event.id === undefined ? undefined : `${keyId}:${event.id}`,
    type: event.type,
    stream: event.operation_id, // the operation is the partition: replay and order per operation
    time: event.timestamp,
    data: { content: event.content, ...(event.data === undefined ? {} : { data: event.data }) },
    meta,
  };
}

function isJson(contentType: string | undefined): boolean {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase() === 'application/json';
}

/** `close`: after a body that was not (fully) read, end the connection instead of draining it. */
function reply(res: ServerResponse, status: number, body: unknown, close = false): void {
  if (res.headersSent || res.destroyed) return;
  if (close) res.setHeader('connection', 'close');
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}
