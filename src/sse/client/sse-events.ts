import { abortableSleep } from '../../abortable-sleep.js';
import type { EventMap, EventMatching } from '../../bus/typed-events.js';
import { HistoryTruncatedError, UnexpectedResponseError } from '../../errors.js';
import type { StoredEvent } from '../../event.js';
import { HistoryTruncated } from '../../subscription/history-truncated.js';
import { SSE_EVENTS } from '../format-sse.js';
import { EventStreamParser, type SSEMessage } from './event-stream-parser.js';
import { IdleWatchdog } from './idle-watchdog.js';
import { openEventStream } from './open-event-stream.js';
import { ReconnectDelay } from './reconnect-delay.js';
import {
  resolveSSEClientSettings,
  SSE_CLIENT_DEFAULTS,
  type SSEClientSettings,
  type SSEEventsOptions,
} from './sse-events-options.js';

/**
 * The events a busline SSE endpoint streams (`createSSEHandler`, or `sseStream` in a fetch
 * handler), as an async iterable of typed stored events, over `fetch`: in browsers, Deno, Bun,
 * Workers and Node. It resumes by itself: after the connection drops or fails it waits the
 * server's `retry:` (then backs off, capped at `maxRetryMs`) and reconnects with the last
 * cursor as `Last-Event-ID`, so every event arrives once and in order. A connection silent for
 * `idleTimeoutMs` (not even a heartbeat) counts as dropped. A `503` or `429` is waited out (its
 * `Retry-After`). Breaking out of the loop or aborting `signal` cancels the
 * request and ends the iteration quietly.
 *
 * The types are the caller's word, not checked: `Events` maps each type to its `data`, `P`
 * narrows them to what the pattern matches. See docs/sse.md.
 *
 * @example
 * for await (const event of sseEvents<Events, 'task.*'>('/events', { pattern: 'task.*' })) render(event);
 * @throws InvalidOptionError, InvalidPatternError at the call for a bad option;
 * from the iteration: `HistoryTruncatedError` when events are missing (see `onTruncated`),
 * `UnexpectedResponseError` for a response that is not an event stream (404, 401, 204, HTML…)
 */
export function sseEvents<Events extends EventMap = EventMap, P extends string = string>(
  url: string | URL,
  options: SSEEventsOptions<P> & { onTruncated: 'signal' },
): AsyncIterableIterator<EventMatching<Events, P> | HistoryTruncated>;
export function sseEvents<Events extends EventMap = EventMap, P extends string = string>(
  url: string | URL,
  options?: SSEEventsOptions<P> & { onTruncated?: 'throw' },
): AsyncIterableIterator<EventMatching<Events, P>>;
export function sseEvents<Events extends EventMap = EventMap, P extends string = string>(
  url: string | URL,
  options?: SSEEventsOptions<P>,
): AsyncIterableIterator<EventMatching<Events, P> | HistoryTruncated>;
export function sseEvents(
  url: string | URL,
  options?: SSEEventsOptions,
): AsyncIterableIterator<StoredEvent | HistoryTruncated> {
  return streamEvents(resolveSSEClientSettings(url, options));
}

async function* streamEvents(settings: SSEClientSettings): AsyncGenerator<StoredEvent | HistoryTruncated> {
  const { signal } = settings;
  // One controller for the whole iteration: it cancels the request in flight and any wait.
  const controller = new AbortController();
  const abort = (): void => controller.abort();
  signal?.addEventListener('abort', abort, { once: true });
  if (signal?.aborted) abort();
  const parser = new EventStreamParser(settings.lastEventId);
  const delay = new ReconnectDelay(settings.retryMs, settings.maxRetryMs, SSE_CLIENT_DEFAULTS.minBackoffMs);
  try {
    while (!controller.signal.aborted) {
      // One connection: the caller's abort or a silent connection (the watchdog) ends it.
      const attempt = new AbortController();
      const endAttempt = (): void => attempt.abort();
      controller.signal.addEventListener('abort', endAttempt, { once: true });
      const watchdog = new IdleWatchdog(settings.idleTimeoutMs, endAttempt);
      try {
        const opened = await openEventStream(settings, parser.lastEventId, attempt.signal);
        if (opened.kind === 'retry') {
          watchdog.stop();
          await abortableSleep(opened.afterMs ?? delay.next(parser.retryMs), controller.signal);
          continue;
        }
        delay.opened();
        parser.reset();
        const reader = opened.body.getReader();
        const decoder = new TextDecoder(); // UTF-8, drops a leading BOM
        let previousId = parser.lastEventId;
        // Silence counts from each wait for a chunk: time the caller spends on an event is not.
        const next = async (): Promise<Uint8Array | undefined> => {
          watchdog.waiting();
          const chunk = await read(reader);
          watchdog.received();
          return chunk;
        };
        try {
          // Until the server ends the stream, or the connection drops (a network error, an
          // abort, silence past idleTimeoutMs).
          for (let chunk = await next(); chunk !== undefined; chunk = await next()) {
            for (const message of parser.push(decoder.decode(chunk, { stream: true }))) {
              const item = itemOf(message, previousId, opened.status);
              previousId = message.lastEventId;
              if (item === undefined) continue;
              if (item instanceof HistoryTruncated && settings.onTruncated === 'throw') {
                throw new HistoryTruncatedError(item.message, { after: item.after });
              }
              yield item;
            }
          }
        } finally {
          reader.cancel().catch(() => {});
        }
      } finally {
        watchdog.stop();
        controller.signal.removeEventListener('abort', endAttempt);
      }
      await abortableSleep(delay.next(parser.retryMs), controller.signal);
    }
  } finally {
    signal?.removeEventListener('abort', abort);
    controller.abort();
  }
}

/** The next chunk, or undefined when the stream ended or failed (both mean: reconnect). */
async function read(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<Uint8Array | undefined> {
  try {
    const { done, value } = await reader.read();
    return done ? undefined : value;
  } catch {
    return undefined;
  }
}

/**
 * What one message means to the caller: a bus event, a gap (`HistoryTruncated`), or nothing
 * (a notice the stream ends after, which the reconnect handles; a notice of a later version).
 */
function itemOf(
  message: SSEMessage,
  previousId: string,
  status: number,
): StoredEvent | HistoryTruncated | undefined {
  if (message.type === SSE_EVENTS.historyTruncated) {
    const body = noticeBody(message);
    return new HistoryTruncated(
      stringOr(body.after, previousId || undefined),
      stringOr(body.message, 'Events are missing'),
    );
  }
  if (message.type === SSE_EVENTS.error) {
    const body = noticeBody(message);
    // The server did not know the cursor (it cleared it and went live), or skipped one event it
    // could not send: either way events are missing. Other errors end the stream: reconnecting
    // resumes after the last cursor.
    if (body.code === 'INVALID_OPTION')
      return new HistoryTruncated(
        stringOr(body.lastEventId, previousId || undefined),
        stringOr(body.message, 'Unknown cursor'),
      );
    if (body.code === 'EVENT_TOO_LARGE')
      return new HistoryTruncated(
        previousId || undefined,
        stringOr(body.message, 'An event was too large to send'),
      );
    return undefined;
  }
  if (message.type.startsWith('busline.')) return undefined;
  return eventOf(message, status);
}

function eventOf(message: SSEMessage, status: number): StoredEvent {
  let event: unknown;
  try {
    event = JSON.parse(message.data);
  } catch {
    event = undefined;
  }
  const candidate = event as Partial<StoredEvent> | null | undefined;
  if (typeof candidate?.type !== 'string' || typeof candidate.cursor !== 'string') {
    throw new UnexpectedResponseError(
      `Expected each SSE message to carry a busline event (JSON with a type and a cursor), got ${JSON.stringify(message.data.slice(0, 100))}`,
      { status },
    );
  }
  return candidate as StoredEvent;
}

function noticeBody(message: SSEMessage): Record<string, unknown> {
  try {
    const body: unknown = JSON.parse(message.data);
    return body !== null && typeof body === 'object' ? (body as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

function stringOr<T>(value: unknown, fallback: T): string | T {
  return typeof value === 'string' ? value : fallback;
}
