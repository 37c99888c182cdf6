import type { IncomingMessage, ServerResponse } from 'node:http';
import type { EventBus } from '../bus/event-bus.js';
import type { EventMap } from '../bus/typed-events.js';
import { InvalidOptionError } from '../errors.js';
import { describe, type StoredEvent } from '../event.js';
import { parsePatterns } from '../pattern/parse.js';
import { resolveSSESettings, type SSEStreamOptions, sseStream } from './sse-stream.js';

export interface SSEHandlerOptions
  extends Pick<SSEStreamOptions, 'heartbeatMs' | 'retryMs' | 'bufferSize' | 'named'> {
  /** What to stream, fixed or per request (e.g. from the query string). A bad pattern answers 400. */
  pattern: string | readonly string[] | ((req: IncomingMessage) => string | readonly string[]);
  /** Only events for which this returns true; gets the request for per-user checks. */
  filter?: (event: StoredEvent, req: IncomingMessage) => boolean;
}

/** The response headers of an event stream (`x-accel-buffering: no` stops nginx buffering it). */
export const SSE_HEADERS = {
  'content-type': 'text/event-stream',
  'cache-control': 'no-cache',
  connection: 'keep-alive',
  'x-accel-buffering': 'no',
} as const;

/**
 * A node:http request handler that streams matching events as SSE. Resumes after the
 * `Last-Event-ID` header (or a `lastEventId` query parameter, for EventSource polyfills that
 * cannot set headers), waits for `'drain'` whenever `res.write()` returns false so a slow
 * client leaves events in the bounded subscription buffer, and releases everything when the
 * connection closes. A bad pattern or option answers 400 before any stream starts.
 *
 * @example
 * const events = createSSEHandler(bus, { pattern: (req) => new URL(req.url!, 'http://x').searchParams.get('pattern') ?? '**' });
 * http.createServer((req, res) => (req.url?.startsWith('/events') ? events(req, res) : serveStatic(req, res)));
 */
export function createSSEHandler<Events extends EventMap>(
  bus: EventBus<Events>,
  options: SSEHandlerOptions,
): (req: IncomingMessage, res: ServerResponse) => void {
  if (options === null || typeof options !== 'object') {
    throw new InvalidOptionError(
      `Expected createSSEHandler options to be an object, got ${describe(options)}`,
    );
  }
  const { pattern, filter } = options;
  if (filter !== undefined && typeof filter !== 'function') {
    throw new InvalidOptionError(`Expected \`filter\` to be a function, got ${describe(filter)}`);
  }
  // Fail when the server starts, not on every request.
  const settings = resolveSSESettings(options);
  if (typeof pattern !== 'function') parsePatterns(pattern);
  return (req, res) => {
    const abort = new AbortController();
    let body: ReadableStream<Uint8Array>;
    try {
      body = sseStream(bus, {
        ...settings,
        pattern: typeof pattern === 'function' ? pattern(req) : pattern,
        lastEventId: lastEventIdOf(req),
        filter: filter && ((event) => filter(event, req)),
        signal: abort.signal,
      });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      res.writeHead(isBadRequest(error) ? 400 : 500, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(message);
      return;
    }
    res.writeHead(200, SSE_HEADERS);
    res.flushHeaders();
    const reader = body.getReader();
    res.once('close', () => {
      abort.abort();
      void reader.cancel().catch(() => {});
    });
    void pump(reader, res);
  };
}

/** Copies the stream to the response at the client's pace. */
async function pump(reader: ReadableStreamDefaultReader<Uint8Array>, res: ServerResponse): Promise<void> {
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done || res.destroyed) break;
      if (!res.write(value)) await drained(res);
    }
  } catch {
    // The stream failed or was cancelled because the client left; nothing more to send.
  } finally {
    if (!res.destroyed && !res.writableEnded) res.end();
  }
}

function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

function lastEventIdOf(req: IncomingMessage): string | undefined {
  const header = req.headers['last-event-id'];
  if (typeof header === 'string' && header.length > 0) return header;
  const query = (req.url ?? '').indexOf('?');
  if (query === -1) return undefined;
  return new URLSearchParams(req.url!.slice(query + 1)).get('lastEventId') || undefined;
}

function isBadRequest(error: unknown): boolean {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return code === 'INVALID_PATTERN' || code === 'INVALID_OPTION';
}
