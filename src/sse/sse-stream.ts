import type { EventBus } from '../bus/event-bus.js';
import type { EventMap } from '../bus/typed-events.js';
import { InvalidOptionError } from '../errors.js';
import { describe, type StoredEvent } from '../event.js';
import { checkSignal, positiveInteger } from '../option-checks.js';
import { SSESource, type SSESourceOptions } from './sse-source.js';

export interface SSEStreamOptions {
  /** What to stream: a pattern or several (`task.*`, `**.failed`). */
  pattern: string | readonly string[];
  /**
   * Resume strictly after this cursor (the client's Last-Event-ID): stored events are replayed,
   * then live ones follow with no gap and no duplicate. Empty or absent: live from now.
   */
  lastEventId?: string | null;
  /** Only events for which this returns true (e.g. permission checks). */
  filter?: (event: StoredEvent) => boolean;
  /** A `: ping` comment after this long without traffic; 0 turns it off. @default 15000 */
  heartbeatMs?: number;
  /**
   * How long the consumer may hold a chunk before asking for the next one (and take to ask
   * for the first). Past it the client is taken as gone: the subscription is released and
   * the stream errors with `TimeoutError` (`TIMEOUT`), so the runtime drops the response.
   * 0 turns it off. @default 2 × heartbeatMs (30 000 when heartbeats are off)
   */
  drainTimeoutMs?: number;
  /** Sent first as `retry:`, the browser's reconnect delay. @default not sent (browsers use ~3 s) */
  retryMs?: number;
  /** Aborting it ends the stream and releases the subscription. */
  signal?: AbortSignal;
  /**
   * Events held for a client that reads slower than events arrive. With a store, a client that
   * falls further behind catches up from the store (nothing lost, memory bounded); without
   * one, the stream ends (overflow `'error'`) and the browser reconnects. @default 1024
   */
  bufferSize?: number;
  /** `event:` line with the bus type (true) or none, so all events reach `onmessage` (false). @default true */
  named?: boolean;
}

export const SSE_DEFAULTS = {
  heartbeatMs: 15_000,
  /** `drainTimeoutMs` is this many heartbeat periods (of the default one when heartbeats are off). */
  drainTimeoutHeartbeats: 2,
  bufferSize: 1024,
  /** Events already waiting are sent together, up to about this many characters per chunk. */
  maxChunkChars: 64 * 1024,
  /** `createSSEHandler`: open event streams per handler; past it, requests get `503`. */
  maxConnections: 1000,
  /** `createSSEHandler`: the `Retry-After` (seconds) of that `503`. */
  busyRetryAfterSeconds: 5,
} as const;

/**
 * A `text/event-stream` body for a web `Response` (Hono, Next.js route handlers, Fastify,
 * Bun, Deno): replay after `lastEventId`, then live events, heartbeats, and the client's
 * pace. Cancelling the stream (the client left) or aborting `signal` releases the
 * subscription. See docs/sse.md.
 *
 * @example
 * return new Response(sseStream(bus, { pattern: 'task.*', lastEventId: req.headers.get('last-event-id') }), {
 *   headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' },
 * });
 * @throws InvalidPatternError or InvalidOptionError at once for a bad pattern or option
 */
export function sseStream<Events extends EventMap>(
  bus: EventBus<Events>,
  options: SSEStreamOptions,
): ReadableStream<Uint8Array> {
  checkBus(bus);
  if (options === null || typeof options !== 'object') {
    throw new InvalidOptionError(`Expected sseStream options to be an object, got ${describe(options)}`);
  }
  const signal = checkSignal(options.signal);
  if (options.filter !== undefined && typeof options.filter !== 'function') {
    throw new InvalidOptionError(`Expected \`filter\` to be a function, got ${describe(options.filter)}`);
  }
  const source = new SSESource(bus as unknown as EventBus, {
    ...resolveSSESettings(options),
    patterns: options.pattern,
    lastEventId: checkLastEventId(options.lastEventId),
    filter: options.filter,
    signal,
  });
  // highWaterMark 0: nothing is pulled from the subscription before the consumer asks.
  return new ReadableStream<Uint8Array>(source, { highWaterMark: 0 });
}

/** The per-connection settings of `sseStream` and `createSSEHandler`, checked, with defaults. */
export type SSESettings = Pick<
  SSESourceOptions,
  'heartbeatMs' | 'drainTimeoutMs' | 'retryMs' | 'bufferSize' | 'named' | 'maxChunkChars'
>;

/** Checks the settings once (createSSEHandler does it when created, not per request). */
export function resolveSSESettings(
  options: Pick<SSEStreamOptions, 'heartbeatMs' | 'drainTimeoutMs' | 'retryMs' | 'bufferSize' | 'named'>,
): SSESettings {
  const heartbeatMs = nonNegativeInteger('heartbeatMs', options.heartbeatMs) ?? SSE_DEFAULTS.heartbeatMs;
  // A healthy client takes a ping every heartbeatMs; one that cannot take a chunk in two is gone.
  const drainTimeoutMs =
    nonNegativeInteger('drainTimeoutMs', options.drainTimeoutMs) ??
    Math.min(MAX_TIMER_MS, SSE_DEFAULTS.drainTimeoutHeartbeats * (heartbeatMs || SSE_DEFAULTS.heartbeatMs));
  return {
    heartbeatMs,
    drainTimeoutMs,
    retryMs: nonNegativeInteger('retryMs', options.retryMs),
    bufferSize: positiveInteger('bufferSize', options.bufferSize, SSE_DEFAULTS.bufferSize),
    named: checkNamed(options.named),
    maxChunkChars: SSE_DEFAULTS.maxChunkChars,
  };
}

/** Something a subscription can be made on (the SSE helpers take a bus of any entry's build). */
export function checkBus(bus: unknown): void {
  if (bus === null || typeof bus !== 'object' || typeof (bus as Partial<EventBus>).subscribe !== 'function') {
    throw new InvalidOptionError(`Expected \`bus\` to be an EventBus, got ${describe(bus)}`);
  }
}

/** setTimeout's ceiling (2^31 - 1 ms); a longer delay would fire at once. */
const MAX_TIMER_MS = 2_147_483_647;

function checkLastEventId(value: unknown): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') {
    throw new InvalidOptionError(`Expected \`lastEventId\` to be a string, got ${describe(value)}`);
  }
  return value;
}

function nonNegativeInteger(name: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > MAX_TIMER_MS) {
    throw new InvalidOptionError(
      `Expected \`${name}\` to be an integer from 0 to ${MAX_TIMER_MS} (ms), got ${describe(value)}`,
    );
  }
  return value;
}

function checkNamed(value: unknown): boolean {
  if (value === undefined) return true;
  if (typeof value !== 'boolean') {
    throw new InvalidOptionError(`Expected \`named\` to be a boolean, got ${describe(value)}`);
  }
  return value;
}
