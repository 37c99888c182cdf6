/**
 * HTTP batch ingest (seed 000's `POST /api/events`): an API key checked in constant time,
 * the batch validated with zod, each event size-limited, then published with one
 * `publishBatch` so dedup and the per-operation rate limit apply. The response lists one
 * result per event. A bad body gets a 400 and nothing of it is ingested.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { BuslineError, type EventBus, type EventInput } from 'busline';
import { z } from 'zod';

/** The wire format of seed 000's Python bridge. */
const IncomingEvent = z.object({
  id: z.string().min(1).max(256).optional(),
  type: z.string().min(1).max(256),
  content: z.string().optional(),
  timestamp: z.number().finite().optional(),
  operation_id: z.string().min(1).max(256),
  session_id: z.string().max(256).optional(),
  user_id: z.string().max(256).optional(),
  data: z.unknown().optional(),
});
const IngestBody = z.object({ events: z.array(IncomingEvent).min(1).max(1000) });

export interface IngestOptions {
  bus: EventBus;
  apiKeys: readonly string[];
  /** Largest request body. @default 1 MiB */
  maxBodyBytes?: number;
}

export function createIngestServer({ bus, apiKeys, maxBodyBytes = 1024 * 1024 }: IngestOptions): Server {
  const keyDigests = apiKeys.map(digest);
  return createServer(async (req, res) => {
    if (req.method !== 'POST' || req.url !== '/api/events') return reply(res, 404, { error: 'Not found' });
    if (!isAuthorized(req.headers['x-api-key'], keyDigests))
      return reply(res, 401, { error: 'Invalid or missing X-API-Key' });
    const body = await readBody(req, maxBodyBytes);
    if (body === 'too large') return reply(res, 413, { error: `Body larger than ${maxBodyBytes} bytes` });
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch {
      return reply(res, 400, { error: 'Body is not valid JSON' });
    }
    const parsed = IngestBody.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      return reply(res, 400, { error: `Invalid batch at "${issue.path.join('.')}": ${issue.message}` });
    }
    try {
      const results = await bus.publishBatch(parsed.data.events.map(toBusEvent));
      reply(res, 200, { results: results.map(({ id, status, cursor }) => ({ id, status, cursor })) });
    } catch (error) {
      // publishBatch validates every event first: an invalid one (too large, bad type…) publishes none.
      if (error instanceof BuslineError) return reply(res, 400, { error: error.message, code: error.code });
      reply(res, 500, { error: 'Ingest failed' });
    }
  });
}

function toBusEvent(event: z.infer<typeof IncomingEvent>): EventInput {
  const meta: Record<string, string> = {};
  if (event.session_id) meta.session_id = event.session_id;
  if (event.user_id) meta.user_id = event.user_id;
  return {
    id: event.id,
    type: event.type,
    stream: event.operation_id, // the operation is the partition: replay, order and rate limit per operation
    time: event.timestamp,
    data: { content: event.content, ...(event.data === undefined ? {} : { data: event.data }) },
    meta,
  };
}

/** Compares digests, so neither the length nor the content of a key leaks through timing. */
function isAuthorized(header: string | string[] | undefined, keyDigests: Buffer[]): boolean {
  if (typeof header !== 'string' || header.length === 0) return false;
  const candidate = digest(header);
  let ok = false;
  for (const key of keyDigests) ok = timingSafeEqual(candidate, key) || ok; // no early exit
  return ok;
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

function readBody(req: IncomingMessage, limit: number): Promise<string | 'too large'> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume(); // drain the rest without keeping it
        resolve('too large');
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}
