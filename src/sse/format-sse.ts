import { EventTooLargeError, InvalidEventError } from '../errors.js';
import { describe, type StoredEvent, toStoredEvent } from '../event.js';
import { optionsObject, positiveInteger } from '../option-checks.js';

/** Names of the SSE events the helpers send besides bus events (listen with `addEventListener`). */
export const SSE_EVENTS = {
  /** The store no longer retains everything after the client's Last-Event-ID: events are missing. */
  historyTruncated: 'busline.history_truncated',
  /** The stream hit a problem; `data` is `{ code, message }`. See docs/sse.md. */
  error: 'busline.error',
} as const;

export interface FormatSSEOptions {
  /**
   * `true`: an `event:` line carries the bus type, so a page listens with
   * `addEventListener('task.created', …)`. `false`: no `event:` line, so every event reaches
   * `onmessage` (EventSource has no wildcard listener) and the page reads `type` from the JSON.
   * @default true
   */
  named?: boolean;
  /**
   * Largest JSON envelope to send, in UTF-8 bytes: an event that grew past it after it was
   * published (data mutated in place, a `toJSON` that lies) is refused with
   * `EventTooLargeError` instead of being framed. @default no limit
   */
  maxEventBytes?: number;
}

/** What a bus event's `data:` line holds: the whole envelope, cursor included. */
export interface SSEEventPayload {
  id: string;
  type: string;
  stream: string;
  time: number;
  data: unknown;
  meta?: Record<string, string | number | boolean>;
  cursor: string;
}

/**
 * One complete SSE message for a stored event: `id:` is the cursor (the browser sends it back
 * as Last-Event-ID), `event:` the type, `data:` the envelope as JSON, then a blank line.
 *
 * JSON.stringify never emits a raw line break, but `data` is split into one `data:` line per
 * line anyway, so the frame stays intact whatever produced the text. A CR, LF or NUL in the
 * cursor or type would end the field early (or make browsers ignore the id), so they are
 * rejected rather than stripped: a silently altered cursor would resume at the wrong place.
 * @throws InvalidEventError when the cursor or type holds CR, LF or NUL
 */
export function formatSSE(event: StoredEvent, options?: FormatSSEOptions): string {
  if (event === null || typeof event !== 'object')
    throw new InvalidEventError(`Expected an event to frame as SSE, got ${describe(event)}`);
  checkField('cursor', event.cursor);
  const { named: givenNamed, maxEventBytes } = optionsObject('formatSSE', options);
  const named = givenNamed ?? true;
  if (named) checkField('type', event.type);
  const payload: SSEEventPayload = toStoredEvent(event, event.cursor);
  let data: string;
  try {
    data = JSON.stringify(payload);
  } catch (error) {
    // A BigInt, a cycle or a throwing toJSON put into the event after it was published.
    throw new InvalidEventError(
      `Expected the event (id, stream, time, data, meta) to be JSON-serializable to frame it as SSE: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
  // Checked: a limit below 1 would refuse every event with an error that does not name it.
  const max =
    maxEventBytes === undefined || maxEventBytes === Number.POSITIVE_INFINITY
      ? maxEventBytes
      : positiveInteger('maxEventBytes', maxEventBytes, 0);
  // Each UTF-16 code unit is at most 3 UTF-8 bytes: only a frame near the limit is counted.
  if (max !== undefined && data.length * 3 > max && utf8Length(data) > max) throw new EventTooLargeError(max);
  return formatMessage({ id: event.cursor, event: named ? event.type : undefined, data });
}

const encoder = new TextEncoder();
/**
 * The UTF-8 frame of each event, by event object, per framing (`named` or not) and size limit:
 * every connection streaming an event sends the same bytes, so the envelope is serialized and
 * encoded once however many connections there are. Weak: a frame lives as long as its event.
 */
const frames = new WeakMap<StoredEvent, { named: boolean; max: number | undefined; bytes: Uint8Array }[]>();

/**
 * `formatSSE` as UTF-8 bytes, shared by every caller framing the same event object the same
 * way (treat them as read-only). Throws as `formatSSE` does, every time.
 */
export function sharedSSEFrame(
  event: StoredEvent,
  named: boolean,
  maxEventBytes: number | undefined,
): Uint8Array {
  const cached = frames.get(event);
  if (cached !== undefined)
    for (const frame of cached) if (frame.named === named && frame.max === maxEventBytes) return frame.bytes;
  const bytes = encoder.encode(formatSSE(event, { named, maxEventBytes }));
  const entry = { named, max: maxEventBytes, bytes };
  if (cached === undefined) frames.set(event, [entry]);
  else cached.push(entry);
  return bytes;
}

/** The fields of one SSE message; `id: ''` sends an empty `id:` line, which clears the browser's last id. */
export interface SSEMessageFields {
  id?: string | undefined;
  event?: string | undefined;
  data: string;
}

/**
 * Frames one message: the `id:` and `event:` lines when given, one `data:` line per line of
 * `data` (CRLF, CR and LF all count, as the SSE parser splits on them), then a blank line.
 * `id` and `event` are single-line fields and must not hold CR, LF or NUL (checked by callers).
 */
export function formatMessage(fields: SSEMessageFields): string {
  let out = '';
  if (fields.id !== undefined) out += fields.id === '' ? 'id:\n' : `id: ${fields.id}\n`;
  if (fields.event !== undefined) out += `event: ${fields.event}\n`;
  const { data } = fields;
  if (!data.includes('\n') && !data.includes('\r')) return `${out}data: ${data}\n\n`;
  for (const line of data.split(/\r\n|\r|\n/)) out += `data: ${line}\n`;
  return out + '\n';
}

/**
 * A named notice (history truncated, error) with a JSON body. It carries no `id:` line, so the
 * browser keeps the last event id it had, unless `resetId` asks for an empty `id:` line, which
 * clears it (the next reconnect then sends no Last-Event-ID).
 */
export function formatNotice(name: string, body: unknown, resetId = false): string {
  return formatMessage({ id: resetId ? '' : undefined, event: name, data: JSON.stringify(body) });
}

/** UTF-8 bytes of a string (a surrogate pair is 4 bytes), counted without encoding it. */
function utf8Length(s: string): number {
  let bytes = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

/** A comment line: browsers ignore it, proxies and load balancers see traffic. */
export function formatComment(text: string): string {
  return `: ${text.replace(/[\r\n]+/g, ' ')}\n\n`;
}

/** Tells the browser how long to wait before reconnecting. */
export function formatRetry(ms: number): string {
  return `retry: ${ms}\n\n`;
}

function checkField(name: 'cursor' | 'type', value: unknown): void {
  if (typeof value !== 'string' || value.length === 0) {
    throw new InvalidEventError(`Expected the event's ${name} to be a non-empty string to frame it as SSE`);
  }
  if (/[\r\n\0]/.test(value)) {
    throw new InvalidEventError(
      `Expected the event's ${name} without CR, LF or NUL to frame it as SSE, got ${JSON.stringify(value)}`,
    );
  }
}
