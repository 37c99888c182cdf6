import { InvalidEventError, StoreUnavailableError } from '../../errors.js';
import type { BusEvent, StoredEvent } from '../../event.js';
import type { RedisReply } from '../client/redis-connection.js';
import { type EntryParts, entryParts } from './log-entry.js';
import { formatCursor, type RedisId } from './redis-cursor.js';
import { streamOfToken } from './redis-keys.js';

/** One stream entry: its Redis id and its fields as a flat `[name, value, …]` list. */
export interface StreamEntry {
  id: RedisId;
  fields: readonly RedisReply[];
}

/** What one chunk of a read found (see readChunk in redis-read.ts). */
export type ReadReply =
  | { otherEpoch: true; epoch: string }
  | { otherEpoch: false; epoch: string; entries: StreamEntry[]; facts?: TruncationFacts };

/** What decides `truncated` for a forward read after a cursor. */
export interface TruncationFacts {
  /** The view's trim mark: the highest id removed from it ('' when none). */
  mark: RedisId | '';
  /** The highest id of a stream that disappeared ('' when none). */
  dropped: RedisId | '';
  /** Whether the view's key exists (a stream with no retained events has none). */
  exists: boolean;
  /** Whether events after the cursor exist but are older than the retention cutoff. */
  hidden: boolean;
}

/**
 * The JSON of a stored entry (log-entry.ts): the envelope without id, cursor, type and stream,
 * which the entry's header holds. Entries of older formats have `type` and `stream` in it too.
 */
interface EventBody {
  type?: string;
  stream?: string;
  time: number;
  data: unknown;
  meta?: BusEvent['meta'];
}

/** Serializes an event's JSON for its entry; a value JSON cannot carry is an InvalidEventError. */
export function encodeEvent(event: BusEvent, index: number): string {
  const body: EventBody = { time: event.time, data: event.data };
  if (event.meta !== undefined) body.meta = event.meta;
  try {
    return JSON.stringify(body);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new InvalidEventError(`expected "data" and "meta" to be JSON-serializable: ${reason}`, {
      index,
      cause: error,
    });
  }
}

/** Why an entry could not be decoded into an event (see `decodeEntry`). */
export class UndecodableEntry {
  constructor(
    readonly reason: string,
    readonly cause?: unknown,
  ) {}
}

/**
 * The stored event of an entry, or why it is not one (fields missing, JSON that does not parse
 * or is not an event body: anything written under the prefix by something else). JSON.parse
 * keeps `__proto__` keys as plain own properties, so stored data cannot reach a prototype.
 */
export function decodeEntry(
  entry: StreamEntry,
  epoch: string,
  parts: EntryParts | undefined = entryParts(entry),
): StoredEvent | UndecodableEntry {
  if (parts === undefined) {
    return new UndecodableEntry('it holds no event id and JSON (a `p` field, or `i` and `e`)');
  }
  const { id, json } = parts;
  let body: EventBody;
  try {
    body = JSON.parse(json) as EventBody;
  } catch (error) {
    return new UndecodableEntry('its event JSON does not parse', error);
  }
  const problem = bodyProblem(body);
  if (problem !== undefined) return new UndecodableEntry(problem);
  // The header's, unless the JSON has its own (an entry of an older format).
  const type = body.type ?? parts.type;
  if (typeof type !== 'string' || type.length === 0) return new UndecodableEntry('it has no event type');
  const stream = body.stream ?? (parts.token === undefined ? undefined : streamOfToken(parts.token));
  if (typeof stream !== 'string' || stream.length === 0) {
    return new UndecodableEntry('it has no stream (or a stream token that is not base64url of one)');
  }
  const event: { -readonly [K in keyof StoredEvent]: StoredEvent[K] } = {
    id,
    type,
    stream,
    time: body.time,
    data: body.data,
    cursor: formatCursor(epoch, entry.id),
  };
  if (body.meta !== undefined) event.meta = body.meta;
  return event;
}

/** `decodeEntry` for callers that fail on an entry they cannot decode: StoreUnavailableError. */
export function decodeEvent(entry: StreamEntry, epoch: string): StoredEvent {
  const decoded = decodeEntry(entry, epoch);
  if (decoded instanceof UndecodableEntry) {
    throw malformed(`stream entry ${entry.id} (${decoded.reason})`, decoded.cause);
  }
  return decoded;
}

function bodyProblem(body: EventBody): string | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return 'its JSON is not an object';
  if (body.type !== undefined && (typeof body.type !== 'string' || body.type.length === 0)) {
    return 'its JSON has an event type that is not a string';
  }
  if (body.stream !== undefined && (typeof body.stream !== 'string' || body.stream.length === 0)) {
    return 'its JSON has a stream that is not a string';
  }
  if (typeof body.time !== 'number' || !Number.isFinite(body.time)) return 'its JSON has no time';
  if (body.meta !== undefined && (typeof body.meta !== 'object' || body.meta === null)) {
    return 'its `meta` is not an object';
  }
  return undefined;
}

/** Bytes (UTF-16 units, close enough for a budget) of an entry's field values. */
export function entrySize(entry: StreamEntry): number {
  let size = 0;
  const { fields } = entry;
  for (let i = 1; i < fields.length; i += 2) {
    const value = fields[i];
    if (typeof value === 'string') size += value.length;
  }
  return size;
}

export function field(entry: StreamEntry, name: string): string | undefined {
  const { fields } = entry;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if (fields[i] === name) {
      const value = fields[i + 1];
      return typeof value === 'string' ? value : undefined;
    }
  }
  return undefined;
}

/** Entries of an XRANGE / XREVRANGE reply: `[[id, [field, value, …]], …]`. */
export function parseEntries(reply: RedisReply): StreamEntry[] {
  if (reply === null) return [];
  if (!Array.isArray(reply)) throw malformed('XRANGE reply');
  return reply.map((item) => {
    if (!Array.isArray(item) || typeof item[0] !== 'string' || !Array.isArray(item[1])) {
      throw malformed('stream entry');
    }
    return { id: item[0], fields: item[1] };
  });
}

/**
 * Entries of an XREAD reply on one key, in any of the shapes clients give it: `null` (timed
 * out), RESP2 `[[key, entries]]`, a RESP3 map normalized to pairs (the same), or a map flattened
 * to `[key, entries]` (ioredis with RESP3 and its default reply mapping).
 */
export function parseXRead(reply: RedisReply): StreamEntry[] {
  if (reply === null) return [];
  if (!Array.isArray(reply)) throw malformed('XREAD reply');
  if (reply.length === 0) return [];
  const first = reply[0];
  if (typeof first === 'string') return parseEntries(reply[1] ?? null);
  if (Array.isArray(first) && typeof first[0] === 'string') return parseEntries(first[1] ?? null);
  throw malformed('XREAD reply');
}

/** The append script's reply: the epoch, the Redis ids joined by spaces, a '0'/'1' duplicate flag per event. */
export function parseAppendReply(
  reply: RedisReply,
  count: number,
): { epoch: string; ids: RedisId[]; duplicates: boolean[] } {
  if (
    !Array.isArray(reply) ||
    reply.length !== 3 ||
    typeof reply[0] !== 'string' ||
    typeof reply[1] !== 'string' ||
    typeof reply[2] !== 'string' ||
    reply[2].length !== count
  ) {
    throw malformed('append script reply');
  }
  const ids = reply[1].split(' ');
  if (ids.length !== count) throw malformed('append script reply');
  const flags = reply[2];
  const duplicates: boolean[] = new Array(count);
  for (let i = 0; i < count; i++) duplicates[i] = flags.charCodeAt(i) === 49; // '1'
  return { epoch: reply[0], ids, duplicates };
}

function malformed(what: string, cause?: unknown): StoreUnavailableError {
  return new StoreUnavailableError(`Unexpected ${what} from Redis (is another program using this prefix?)`, {
    cause,
  });
}
