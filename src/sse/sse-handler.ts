import type { EventBus } from '../bus/event-bus.js';
import type { EventMap } from '../bus/typed-events.js';
import { InvalidOptionError } from '../errors.js';
import { describe, type StoredEvent } from '../event.js';
import { positiveInteger } from '../option-checks.js';
import { parsePatterns } from '../pattern/parse.js';
import type { SSEIncomingRequest, SSEServerResponse } from './node-http-types.js';
import { pumpToResponse } from './response-pump.js';
import {
  checkBus,
  resolveSSESettings,
  SSE_DEFAULTS,
  type SSEStreamOptions,
  sseStream,
} from './sse-stream.js';

/**
 * Both functions get the request the handler was called with. Its type names only what the
 * handler reads (`url`, `headers`), so these declarations need no @types/node; declare the
 * parameter as node:http's `IncomingMessage` (or Express's `Request`) to use the rest:
 * `filter: (event, req: IncomingMessage) => …`. The functions are checked as methods (their
 * parameter bivariantly), which is what lets that narrower declaration through.
 */
export interface SSEHandlerOptions
  extends Pick<SSEStreamOptions, 'heartbeatMs' | 'drainTimeoutMs' | 'retryMs' | 'bufferSize' | 'named'> {
  /** What to stream, fixed or per request (e.g. from the query string). A bad pattern answers 400. */
  pattern: string | readonly string[] | SSERequestPattern;
  /** Only events for which this returns true; gets the request for per-user checks. */
  filter?(event: StoredEvent, req: SSEIncomingRequest): boolean;
  /**
   * Event streams this handler keeps open at once. Past it a request gets `503` with
   * `Retry-After` and subscribes nothing; a slot frees when its connection closes, whatever
   * the reason. `Infinity`: no cap. @default 1000
   */
  maxConnections?: number;
}

/** What `handler.stats()` returns. */
export interface SSEHandlerStats {
  /** Event streams open now (each holds a subscription). */
  connections: number;
  maxConnections: number;
  /** Requests answered `503` because `maxConnections` streams were open. */
  refused: number;
  /** Connections closed because the client did not take what was sent within `drainTimeoutMs`. */
  drainTimeouts: number;
}

/** The pattern of one request (a method's type, so its parameter may be declared as `IncomingMessage`). */
export type SSERequestPattern = { pattern(req: SSEIncomingRequest): string | readonly string[] }['pattern'];

/** A node:http request handler, `(req, res) => void`, with its counters. */
export interface SSEHandler {
  (req: SSEIncomingRequest, res: SSEServerResponse): void;
  stats(): SSEHandlerStats;
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
 * client leaves events in the bounded subscription buffer, closes a connection that has not
 * drained within `drainTimeoutMs`, answers `503` past `maxConnections`, and releases
 * everything when the connection closes. A bad pattern or option answers 400 before any
 * stream starts.
 *
 * @example
 * const events = createSSEHandler(bus, { pattern: (req) => new URL(req.url!, 'http://x').searchParams.get('pattern') ?? '**' });
 * http.createServer((req, res) => (req.url?.startsWith('/events') ? events(req, res) : serveStatic(req, res)));
 */
export function createSSEHandler<Events extends EventMap>(
  bus: EventBus<Events>,
  options: SSEHandlerOptions,
): SSEHandler {
  checkBus(bus);
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
  const maxConnections = checkMaxConnections(options.maxConnections);
  if (typeof pattern !== 'function') parsePatterns(pattern);
  const counts = { connections: 0, refused: 0, drainTimeouts: 0 };
  const handler = (req: SSEIncomingRequest, res: SSEServerResponse): void => {
    // The client left before the handler ran (say, after an async auth check): 'close' has
    // fired already and would never release a subscription made now.
    if (res.destroyed || res.closed) return;
    if (counts.connections >= maxConnections) {
      counts.refused++;
      res.writeHead(503, {
        'content-type': 'text/plain; charset=utf-8',
        'retry-after': String(SSE_DEFAULTS.busyRetryAfterSeconds),
      });
      res.end(`Too many event streams: ${maxConnections} are open (maxConnections); retry later`);
      return;
    }
    const abort = new AbortController();
    let body: ReadableStream<Uint8Array>;
    try {
      body = sseStream(bus, {
        ...settings,
        // The pump bounds the wait for 'drain' itself, and can close the socket.
        drainTimeoutMs: 0,
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
    const reader = body.getReader();
    counts.connections++;
    res.once('close', () => {
      counts.connections--;
      abort.abort();
      void reader.cancel().catch(() => {});
    });
    res.writeHead(200, SSE_HEADERS);
    res.flushHeaders();
    void pumpToResponse(reader, res, settings.drainTimeoutMs).then((outcome) => {
      if (outcome !== 'stalled' || res.destroyed) return;
      counts.drainTimeouts++;
      res.destroy();
    });
  };
  return Object.assign(handler, {
    stats: (): SSEHandlerStats => ({ ...counts, maxConnections }),
  });
}

function checkMaxConnections(value: unknown): number {
  if (value === Number.POSITIVE_INFINITY) return value;
  return positiveInteger('maxConnections', value, SSE_DEFAULTS.maxConnections);
}

function lastEventIdOf(req: SSEIncomingRequest): string | undefined {
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
