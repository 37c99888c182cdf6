import { InvalidOptionError } from '../../errors.js';
import { describe } from '../../event.js';
import { checkSignal, optionsObject } from '../../option-checks.js';
import { parsePatterns } from '../../pattern/parse.js';

/** A `fetch`: the global one, or a wrapper that adds credentials, a proxy, a test double. */
export type SSEFetch = (url: string, init: RequestInit) => Promise<Response>;

/** Headers for every (re)connection, or a function called before each one (a token that expires). */
export type SSEHeaders =
  | RequestInit['headers']
  | (() => RequestInit['headers'] | Promise<RequestInit['headers']>);

export interface SSEEventsOptions<P extends string = string> {
  /**
   * What to stream, sent as one `pattern` query parameter per pattern (`?pattern=task.*&pattern=**.failed`),
   * where `createSSEHandler`'s `pattern` function (or a fetch handler) reads it. Checked here
   * first: a bad one throws `InvalidPatternError` before any request. @default none (the server's default)
   */
  pattern?: P | readonly P[];
  /** Resume strictly after this cursor (an event's `cursor`). Absent or empty: live from now. */
  lastEventId?: string | null;
  /** Aborting it cancels the request and ends the iteration quietly. */
  signal?: AbortSignal;
  /** Sent with every request, e.g. `{ authorization: 'Bearer …' }`; a function is called before each one. */
  headers?: SSEHeaders;
  /** @default globalThis.fetch */
  fetch?: SSEFetch;
  /** The reconnection delay until the server sends `retry:`. @default 3000 (as browsers) */
  retryMs?: number;
  /** The longest wait between attempts, however many failed in a row. @default 30000 */
  maxRetryMs?: number;
  /**
   * The longest silence (no event, no heartbeat, no response to the request) before the
   * connection counts as dead and is reopened after the last cursor: a half-open connection
   * (a NAT or proxy that dropped it without a word) or a hung server never ends by itself.
   * Keep it well above the server's `heartbeatMs` (15 s by default). 0 turns it off.
   * @default 45000
   */
  idleTimeoutMs?: number;
  /**
   * When events are missing (the store no longer holds what came after the cursor, or the
   * server does not know the cursor): `'throw'` ends the iteration with `HistoryTruncatedError`,
   * `'signal'` yields a `HistoryTruncated` item and goes on. @default 'throw'
   */
  onTruncated?: 'throw' | 'signal';
}

export const SSE_CLIENT_DEFAULTS = {
  retryMs: 3000,
  maxRetryMs: 30_000,
  /** Three default heartbeats (`heartbeatMs`, 15 s): one lost or late heartbeat is not enough. */
  idleTimeoutMs: 45_000,
  /** Back-off starts from at least this, so a server that says `retry: 0` is not hammered while down. */
  minBackoffMs: 250,
} as const;

/** setTimeout's ceiling (2^31 - 1 ms). */
const MAX_TIMER_MS = 2_147_483_647;

/** The checked options, with the request URL built. */
export interface SSEClientSettings {
  url: string;
  lastEventId: string;
  signal: AbortSignal | undefined;
  headers: SSEHeaders;
  fetch: SSEFetch;
  retryMs: number;
  maxRetryMs: number;
  idleTimeoutMs: number;
  onTruncated: 'throw' | 'signal';
}

/** Checks every option at the call, so a mistake throws there, not on the first `next()`. */
export function resolveSSEClientSettings(
  url: unknown,
  options: SSEEventsOptions | undefined,
): SSEClientSettings {
  const given = optionsObject('sseEvents', options);
  const target = requestUrl(url);
  if (given.pattern !== undefined) {
    parsePatterns(given.pattern);
    target.searchParams.delete('pattern');
    const patterns: readonly string[] = typeof given.pattern === 'string' ? [given.pattern] : given.pattern;
    for (const pattern of patterns) target.searchParams.append('pattern', pattern);
  }
  const lastEventId = given.lastEventId ?? '';
  if (typeof lastEventId !== 'string')
    throw new InvalidOptionError(`Expected \`lastEventId\` to be a string, got ${describe(lastEventId)}`);
  const fetchImpl = given.fetch ?? (globalThis.fetch as SSEFetch | undefined);
  if (typeof fetchImpl !== 'function')
    throw new InvalidOptionError(`Expected \`fetch\` to be a function, got ${describe(fetchImpl)}`);
  const headers = given.headers;
  if (headers !== undefined && typeof headers !== 'function') checkHeaders(headers);
  const onTruncated = given.onTruncated ?? 'throw';
  if (onTruncated !== 'throw' && onTruncated !== 'signal')
    throw new InvalidOptionError(
      `Expected \`onTruncated\` to be 'throw' or 'signal', got ${describe(onTruncated)}`,
    );
  return {
    url: target.href,
    lastEventId,
    signal: checkSignal(given.signal),
    headers,
    // Called unbound: a browser's fetch throws "Illegal invocation" when `this` is not the window.
    fetch: given.fetch ?? ((input, init) => globalThis.fetch(input, init)),
    retryMs: delayMs('retryMs', given.retryMs, SSE_CLIENT_DEFAULTS.retryMs),
    maxRetryMs: delayMs('maxRetryMs', given.maxRetryMs, SSE_CLIENT_DEFAULTS.maxRetryMs),
    idleTimeoutMs: delayMs('idleTimeoutMs', given.idleTimeoutMs, SSE_CLIENT_DEFAULTS.idleTimeoutMs),
    onTruncated,
  };
}

/** Headers given as a value are checked now (a function's result, before each request). */
export function checkHeaders(headers: unknown): Headers {
  if (headers === null || typeof headers !== 'object')
    throw new InvalidOptionError(
      `Expected \`headers\` to be an object or a function, got ${describe(headers)}`,
    );
  try {
    return new Headers(headers as RequestInit['headers']);
  } catch (error) {
    throw new InvalidOptionError(
      `Expected \`headers\` to be valid HTTP headers: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
}

/** The URL as given, resolved against the page's location in a browser (so `/events` works). */
function requestUrl(url: unknown): URL {
  if (typeof url !== 'string' && !(url instanceof URL))
    throw new InvalidOptionError(`Expected \`url\` to be a string or a URL, got ${describe(url)}`);
  const base = (globalThis as { location?: { href?: unknown } }).location?.href;
  try {
    return new URL(String(url), typeof base === 'string' ? base : undefined);
  } catch (error) {
    throw new InvalidOptionError(
      `Expected \`url\` to be an absolute URL, got ${JSON.stringify(String(url))}`,
      {
        cause: error,
      },
    );
  }
}

function delayMs(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > MAX_TIMER_MS) {
    throw new InvalidOptionError(
      `Expected \`${name}\` to be an integer from 0 to ${MAX_TIMER_MS} (ms), got ${describe(value)}`,
    );
  }
  return value;
}
