import { UnexpectedResponseError } from '../../errors.js';
import { retryAfterMs } from './reconnect-delay.js';
import { checkHeaders, type SSEClientSettings } from './sse-events-options.js';

/** One connection attempt: a stream to read, or try again (after `afterMs` when the server said). */
export type OpenedStream =
  | { kind: 'open'; body: ReadableStream<Uint8Array>; status: number }
  | { kind: 'retry'; afterMs: number | undefined };

/**
 * A GET for the event stream, resuming after `lastEventId`. What an EventSource would retry is
 * retried (a network error, a refused connection) and so are `503` and `429`, which say "later";
 * any other answer that is not an event stream would be the same next time, so it ends the
 * iteration with `UnexpectedResponseError`.
 */
export async function openEventStream(
  settings: SSEClientSettings,
  lastEventId: string,
  signal: AbortSignal,
): Promise<OpenedStream> {
  const headers = await requestHeaders(settings, lastEventId);
  let response: Response;
  try {
    // No `cache` option: workerd refuses it, and the server marks the stream `no-cache`.
    response = await settings.fetch(settings.url, { headers, signal });
  } catch {
    // Refused, reset, offline, or aborted (the caller's loop sees the abort and stops).
    return { kind: 'retry', afterMs: undefined };
  }
  const { status } = response;
  if (status === 503 || status === 429) {
    void response.body?.cancel().catch(() => {});
    return { kind: 'retry', afterMs: retryAfterMs(response.headers.get('retry-after'), Date.now()) };
  }
  const contentType = response.headers.get('content-type');
  const problem =
    status < 200 || status > 299
      ? `status ${status}`
      : status === 204
        ? 'status 204 (No Content: the server asks not to reconnect)'
        : !isEventStream(contentType)
          ? `content-type ${JSON.stringify(contentType)}`
          : response.body === null
            ? 'no body'
            : undefined;
  if (problem !== undefined || response.body === null) {
    void response.body?.cancel().catch(() => {});
    throw new UnexpectedResponseError(
      `Expected a text/event-stream response from ${where(settings.url)}, got ${problem ?? 'no body'}`,
      { status, contentType },
    );
  }
  return { kind: 'open', body: response.body, status };
}

/**
 * The caller's headers (a function is called for each attempt: a token can be renewed) with
 * `accept` and the resume point. A function that throws ends the iteration with its error.
 */
async function requestHeaders(settings: SSEClientSettings, lastEventId: string): Promise<Headers> {
  const given = typeof settings.headers === 'function' ? await settings.headers() : settings.headers;
  const headers = checkHeaders(given ?? {});
  headers.set('accept', 'text/event-stream');
  if (lastEventId === '') headers.delete('last-event-id');
  else headers.set('last-event-id', utf8Bytes(lastEventId));
  return headers;
}

const encoder = new TextEncoder();
/**
 * A header value is bytes (a fetch header, a ByteString, refuses code points past 255): as
 * EventSource does, the id goes as its UTF-8 bytes, one character per byte. busline's cursors
 * are ASCII, where this changes nothing.
 */
function utf8Bytes(value: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the test is for "all ASCII"
  if (/^[\x00-\x7f]*$/.test(value)) return value;
  let out = '';
  for (const byte of encoder.encode(value)) out += String.fromCharCode(byte);
  return out;
}

/** `text/event-stream`, any case, parameters (`; charset=utf-8`) allowed. */
function isEventStream(contentType: string | null): boolean {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase() === 'text/event-stream';
}

/** The URL without its query, which may carry a token. */
function where(url: string): string {
  const at = url.indexOf('?');
  return at === -1 ? url : url.slice(0, at);
}
