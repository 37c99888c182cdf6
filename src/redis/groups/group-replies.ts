import { StoreUnavailableError } from '../../errors.js';
import type { DeadLetter } from '../../groups/dead-letters.js';
import type { Delivery } from '../../groups/group-backend.js';
import type { RedisReply } from '../client/redis-connection.js';
import { entryParts, packEntry } from '../store/log-entry.js';
import type { RedisId } from '../store/redis-cursor.js';
import { decodeEntry, field, type StreamEntry, UndecodableEntry } from '../store/redis-replies.js';

/** Where a delivery's entry lives: the store's log, or the group's `again` stream. */
export type EntrySource = 'l' | 'a';

/**
 * A delivery of the Redis group backend: besides the event, what settles it (the entry, and
 * its PEL delivery count as of the hand-out, which tells a stale delivery from the current one)
 * and the stored form of the event, copied as is into a retry or a dead letter.
 */
export interface RedisDelivery extends Delivery {
  readonly source: EntrySource;
  readonly entryId: RedisId;
  readonly pelCount: number;
  /** The event's log id (its cursor's Redis id). */
  readonly logId: RedisId;
  /** The event's packed value (log-entry.ts), as stored: what a retry or dead letter holds. */
  readonly packed: string;
}

/** What the claim script returned (see CLAIM in group-scripts.ts). */
export type ClaimReply =
  | { found: false; settled: boolean[] }
  | {
      found: true;
      /** Per settle operation sent along: whether its delivery was still current. */
      settled: boolean[];
      pending: number;
      /** Ms until the group's next retry falls due; -1 for none. */
      nextDueMs: number;
      /** The group's read position, when events after it were trimmed before it read them. */
      truncatedAfter: RedisId | undefined;
      /** Pending entries that were trimmed from their stream (they can no longer be delivered). */
      lost: number;
      /** A budget (entries scanned, matching work) ran out with room left: more events may be waiting. */
      more: boolean;
      deliveries: RedisDelivery[];
      /** Entries handed out that are not events (written by something else): to report and acknowledge. */
      invalid: InvalidDelivery[];
    };

/** An entry the claim handed out that does not decode into an event. */
export interface InvalidDelivery {
  readonly source: EntrySource;
  readonly entryId: RedisId;
  readonly pelCount: number;
  readonly deliveries: number;
  readonly reason: string;
  readonly cause: unknown;
}

export function parseClaimReply(reply: RedisReply): ClaimReply {
  if (!Array.isArray(reply)) throw malformed('claim');
  if (reply[0] === 'nogroup') return { found: false, settled: flags(reply[1]) };
  const [status, epoch, pending, nextDue, truncatedAfter, lost, more, entries, settled] = reply;
  if (status !== 'ok' || typeof epoch !== 'string' || !Array.isArray(entries)) throw malformed('claim');
  return {
    found: true,
    settled: flags(settled),
    pending: Number(pending),
    nextDueMs: Number(nextDue),
    truncatedAfter: typeof truncatedAfter === 'string' && truncatedAfter !== '' ? truncatedAfter : undefined,
    lost: Number(lost),
    more: Number(more) === 1,
    ...toDeliveries(entries, epoch),
  };
}

function toDeliveries(
  entries: RedisReply[],
  epoch: string,
): { deliveries: RedisDelivery[]; invalid: InvalidDelivery[] } {
  const deliveries: RedisDelivery[] = [];
  const invalid: InvalidDelivery[] = [];
  for (const item of entries) {
    const delivery = toDelivery(item, epoch);
    if ('reason' in delivery) invalid.push(delivery);
    else deliveries.push(delivery);
  }
  return { deliveries, invalid };
}

function flags(reply: RedisReply | undefined): boolean[] {
  return Array.isArray(reply) ? reply.map((flag) => Number(flag) === 1) : [];
}

function toDelivery(item: RedisReply, epoch: string): RedisDelivery | InvalidDelivery {
  if (!Array.isArray(item) || typeof item[1] !== 'string' || !Array.isArray(item[3]))
    throw malformed('claim');
  const source: EntrySource = item[0] === 'a' ? 'a' : 'l';
  const entry: StreamEntry = { id: item[1], fields: item[3] };
  const pelCount = Number(item[2]);
  const logId = source === 'l' ? entry.id : field(entry, 'c');
  const parts = entryParts(entry);
  const before = source === 'l' ? 0 : Number(field(entry, 'n') ?? 0);
  const deliveries = (Number.isFinite(before) ? before : 0) + pelCount;
  const decoded =
    logId === undefined || parts?.token === undefined
      ? new UndecodableEntry('it has no log id (`c`), stream token or event JSON')
      : decodeEntry({ id: logId, fields: entry.fields }, epoch, parts);
  if (decoded instanceof UndecodableEntry) {
    return { source, entryId: entry.id, pelCount, deliveries, reason: decoded.reason, cause: decoded.cause };
  }
  return {
    event: decoded,
    deliveries,
    source,
    entryId: entry.id,
    pelCount,
    logId: logId!,
    // An entry of the four-field format is packed now, with the type its JSON holds.
    packed: parts!.packed ?? packEntry(decoded.id, parts!.token!, decoded.type, parts!.json),
  };
}

/** The settle script's reply: per operation whether its delivery was still current; the pending count and next due. */
export function parseSettleReply(
  reply: RedisReply,
  operations: number,
): { settled: boolean[]; pending: number; nextDueMs: number } {
  if (!Array.isArray(reply) || reply.length !== operations + 2) throw malformed('settle');
  return {
    settled: reply.slice(0, operations).map((flag) => Number(flag) === 1),
    pending: Number(reply[operations]),
    nextDueMs: Number(reply[operations + 1]),
  };
}

/**
 * Entries of the `dead` stream (XRANGE) as dead letters; one that is not a dead letter of an
 * event is passed to `skip` and left out.
 */
export function parseDeadLetters(
  reply: RedisReply,
  epoch: string,
  group: string,
  skip: (entryId: string, reason: string, cause: unknown) => void,
): DeadLetter[] {
  if (reply === null) return [];
  if (!Array.isArray(reply)) throw malformed('dead letters');
  const letters: DeadLetter[] = [];
  for (const item of reply) {
    if (!Array.isArray(item) || typeof item[0] !== 'string' || !Array.isArray(item[1])) {
      throw malformed('dead letter');
    }
    const entry: StreamEntry = { id: item[0], fields: item[1] };
    const logId = field(entry, 'c');
    const event =
      logId === undefined
        ? new UndecodableEntry('it has no log id (`c`)')
        : decodeEntry({ id: logId, fields: entry.fields }, epoch);
    if (event instanceof UndecodableEntry) {
      skip(entry.id, event.reason, event.cause);
      continue;
    }
    letters.push({
      event,
      group,
      deliveries: Number(field(entry, 'n')),
      lastError: { name: field(entry, 'en') ?? 'Error', message: field(entry, 'em') ?? '' },
      deadAt: Number(field(entry, 't')),
    });
  }
  return letters;
}

function malformed(what: string): StoreUnavailableError {
  return new StoreUnavailableError(
    `Unexpected ${what} reply from Redis (is another program using this prefix?)`,
  );
}
