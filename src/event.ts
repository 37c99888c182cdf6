import { jsonByteBound, jsonByteLength, numberBytes, stringBytes } from './json-size.js';
import { hasControlCharacter, PATTERN_LIMITS } from './pattern/limits.js';

/** Values allowed in `meta`: flat, so filters and stores can read them without parsing. */
export type EventMeta = Record<string, string | number | boolean>;

/**
 * The event envelope. Handlers receive the same object, so treat it as read-only: it is
 * typed `readonly` and never copied per subscriber.
 */
export interface BusEvent<T extends string = string, D = unknown> {
  /** Unique; generated when omitted (UUIDv7, time-ordered and monotonic within a process). The dedup key. */
  readonly id: string;
  /** Dot-separated segments: `task.created`, `tool_start`. */
  readonly type: T;
  /** Partition key (an operation, session, project…). @default "default" */
  readonly stream: string;
  /** Epoch milliseconds; the bus clock sets it when omitted. */
  readonly time: number;
  readonly data: D;
  /** User id, role, trace id… used by filters. */
  readonly meta?: EventMeta;
}

/** An event as delivered and stored: with the cursor it can be resumed after. */
export interface StoredEvent<T extends string = string, D = unknown> extends BusEvent<T, D> {
  /**
   * Opaque, totally ordered within one store; pass it as `{ after: cursor }` to resume.
   * Without a store (`store: null`) it equals `id`, which is ordered within the process.
   */
  readonly cursor: string;
}

/** What `publish` accepts: an envelope whose `id`, `stream` and `time` may be left out. */
export interface EventInput<T extends string = string, D = unknown> {
  id?: string;
  type: T;
  stream?: string;
  time?: number;
  data: D;
  meta?: EventMeta;
}

export const EVENT_DEFAULTS = {
  stream: 'default',
  /**
   * The largest |time| a JavaScript Date can represent (±8.64e15 ms, about ±275,000 years): past
   * it `new Date(time).toISOString()` throws, which would break every consumer that formats it.
   */
  maxAbsTime: 8.64e15,
  /** 64 KiB: the serialized envelope (id, type, stream, time, data, meta) as UTF-8 JSON. */
  maxEventBytes: 64 * 1024,
  /** Longest `id` and `stream`, like `type`. */
  maxNameLength: PATTERN_LIMITS.maxLength,
} as const;

/**
 * Why `input` is not a valid envelope, or `undefined`. Checks everything but `type` (the
 * subscription index validates types once and caches the verdict) and the size.
 */
export function envelopeProblem(input: unknown): string | undefined {
  if (input === null || typeof input !== 'object') return `expected an event object, got ${describe(input)}`;
  const event = input as Partial<Record<keyof EventInput, unknown>>;
  if (event.id !== undefined) {
    const problem = nameProblem('id', event.id);
    if (problem) return problem;
  }
  if (event.stream !== undefined) {
    const problem = nameProblem('stream', event.stream);
    if (problem) return problem;
  }
  if (
    event.time !== undefined &&
    (typeof event.time !== 'number' || !(Math.abs(event.time) <= EVENT_DEFAULTS.maxAbsTime))
  ) {
    return `expected "time" to be epoch milliseconds within ±${EVENT_DEFAULTS.maxAbsTime} (what a Date can hold), got ${describe(event.time)}`;
  }
  if (event.meta !== undefined) return metaProblem(event.meta);
  return undefined;
}

function nameProblem(field: string, value: unknown): string | undefined {
  if (typeof value !== 'string') return `expected "${field}" to be a string, got ${describe(value)}`;
  if (value.length === 0 || value.length > EVENT_DEFAULTS.maxNameLength) {
    return `expected "${field}" to have 1 to ${EVENT_DEFAULTS.maxNameLength} characters, got ${value.length}`;
  }
  if (hasControlCharacter(value))
    return `expected "${field}" without control characters, got ${JSON.stringify(value)}`;
  return undefined;
}

function metaProblem(meta: unknown): string | undefined {
  if (meta === null || typeof meta !== 'object' || Array.isArray(meta)) {
    return `expected "meta" to be a flat object, got ${describe(meta)}`;
  }
  for (const key of Object.keys(meta)) {
    const value = (meta as Record<string, unknown>)[key];
    const t = typeof value;
    if (t !== 'string' && t !== 'boolean' && !(t === 'number' && Number.isFinite(value))) {
      return `expected "meta.${key}" to be a string, finite number or boolean, got ${describe(value)}`;
    }
  }
  return undefined;
}

/**
 * A fresh stored event holding exactly the envelope fields of `event` plus `cursor`
 * (no extra properties a caller's object may carry).
 */
export function toStoredEvent(event: BusEvent, cursor: string): StoredEvent {
  return {
    id: event.id,
    type: event.type,
    stream: event.stream,
    time: event.time,
    data: event.data,
    meta: event.meta,
    cursor,
  };
}

/** `{"id":` `,"type":` `,"stream":` `,"time":` and the closing brace. */
const ENVELOPE_OVERHEAD = 6 + 8 + 10 + 8 + 1;
const DATA_KEY = 8; // ,"data":
const META_KEY = 8; // ,"meta":

/**
 * UTF-8 size of `JSON.stringify(event)` (without the cursor); a value above `limit` means
 * "too large" and may be inexact, since measuring stops early. `namesBytes`, when given, is
 * the JSON size of id + type + stream, which callers can cache.
 * @throws NotSerializableError when `data` holds a BigInt or a cycle.
 */
export function envelopeBytes(event: BusEvent, limit: number, namesBytes?: number): number {
  let total =
    ENVELOPE_OVERHEAD +
    (namesBytes ?? stringBytes(event.id) + stringBytes(event.type) + stringBytes(event.stream)) +
    numberBytes(event.time);
  if (total > limit) return total;
  const data = jsonByteLength(event.data, limit - total);
  if (data > 0) total += DATA_KEY + data;
  if (event.meta !== undefined && total <= limit)
    total += META_KEY + jsonByteLength(event.meta, limit - total);
  return total;
}

/**
 * Whether `envelopeBytes(event, limit) <= limit`, usually without reading a character: a
 * cheap upper bound (names and strings at 6 bytes per unit, see `jsonByteBound`) settles
 * every event well under the limit; only the others are measured exactly.
 * @throws NotSerializableError as `envelopeBytes` does.
 */
export function envelopeFits(event: BusEvent, limit: number): boolean {
  const head =
    ENVELOPE_OVERHEAD +
    6 * (event.id.length + event.type.length + event.stream.length) +
    6 +
    numberBytes(event.time) +
    DATA_KEY;
  let bound = head > limit ? Number.POSITIVE_INFINITY : head + jsonByteBound(event.data, limit - head);
  if (event.meta !== undefined && bound <= limit)
    bound += META_KEY + jsonByteBound(event.meta, limit - bound - META_KEY);
  // Infinity: the bound gave up (a limit of Infinity must still measure, to throw on a cycle).
  return (bound !== Number.POSITIVE_INFINITY && bound <= limit) || envelopeBytes(event, limit) <= limit;
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `"${value.length > 40 ? value.slice(0, 40) + '…' : value}"`;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return typeof value;
}
