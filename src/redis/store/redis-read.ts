import { StoreUnavailableError } from '../../errors.js';
import type { StoredEvent } from '../../event.js';
import type { ReadPage } from '../../store/event-store.js';
import type { CheckedReadQuery } from '../../store/read-query.js';
import type { RedisCalls } from '../client/redis-calls.js';
import type { RedisConnection, RedisReply } from '../client/redis-connection.js';
import type { InvalidEntries } from './invalid-entries.js';
import { headCursor, readLogHead } from './log-head.js';
import { compareIds, formatCursor, maxId, type ParsedCursor, type RedisId } from './redis-cursor.js';
import { encodeStreamName, type RedisKeys } from './redis-keys.js';
import {
  decodeEntry,
  entrySize,
  parseEntries,
  type ReadReply,
  type TruncationFacts,
  UndecodableEntry,
} from './redis-replies.js';

export interface ReadContext {
  connection: RedisConnection;
  calls: RedisCalls;
  keys: RedisKeys;
  /** The retention cutoff (epoch ms) as of now, or undefined without `retentionMs`. */
  cutoffMs(): number | undefined;
  /** Most entries one read examines (raised to the page's limit + 1). */
  scanLimit: number;
  /** Most bytes of entries one read examines (at least one chunk). */
  scanBytes: number;
  invalid: InvalidEntries;
  /** The store's epoch as the last read saw it ('' before any), kept up to date by readPage. */
  seenEpoch: { value: string };
}

/**
 * Entries fetched per XRANGE when a filter may skip some: enough to fill most pages at once.
 * Also the most per XRANGE without a filter: a page of 10,000 large events is read in chunks.
 */
const SCAN_CHUNK = { min: 128, max: 1000 } as const;
/** Restarts allowed when the store is emptied (new epoch) while one read from the start pages through it. */
const MAX_EPOCH_RESTARTS = 3;
/** Retries of one chunk whose view was trimmed while it was read (each trim moves the mark up). */
const MAX_RACES = 8;

/**
 * `truncated` for a forward read after `after` (see docs/redis.md, "Retention"): events past
 * the cursor are hidden by the retention cutoff, or the view's trim mark is above the cursor.
 * A stream with no key at all has no mark of its own: it may have existed and been removed, so
 * it is judged by the `dropped` mark and the cutoff.
 */
export function isTruncated(
  after: RedisId,
  facts: TruncationFacts,
  isStream: boolean,
  cutoff: RedisId | '',
): boolean {
  if (facts.hidden) return true;
  const mark = isStream && !facts.exists ? maxId(facts.dropped, cutoff) : facts.mark;
  return mark !== '' && compareIds(after, mark) < 0;
}

/**
 * One page of a read: XRANGE chunks of `limit + 1` entries (more when filtering), each returned
 * with the epoch, so cursors are always built with the epoch they belong to.
 *
 * A budget bounds the work of one call (`scanLimit` entries, `scanBytes` bytes, whichever comes
 * first): a read that spends it returns `next`, the cursor of the last entry it examined, even
 * with no events. A replay filtered down to nothing is then many short reads rather than one
 * scan of the whole log, and its caller can stop between two (a client that went away).
 *
 * A cursor of another epoch answers `{ events: [], truncated: true }` at once, with no `next`:
 * its history is gone, and it says nothing about a position in the current one. Replaying the
 * current history for it instead would let any stale or forged cursor (a Last-Event-ID) scan
 * the whole log. Entries that are not events are reported (InvalidEntries) and skipped.
 */
export async function readPage(
  ctx: ReadContext,
  q: CheckedReadQuery,
  after: ParsedCursor | undefined,
): Promise<ReadPage> {
  const token = q.stream === undefined ? undefined : encodeStreamName(q.stream);
  const view = token === undefined ? ctx.keys.log : ctx.keys.stream(token);
  const viewMark = token === undefined ? ctx.keys.logMark : ctx.keys.streamMark(token);
  const cutoffMs = ctx.cutoffMs();
  const cutoff: RedisId | '' = cutoffMs === undefined ? '' : `${cutoffMs}-0`;
  const filtering =
    q.types !== undefined || q.since !== Number.NEGATIVE_INFINITY || q.until !== Number.POSITIVE_INFINITY;
  const matches = (event: StoredEvent): boolean =>
    (q.stream === undefined || event.stream === q.stream) &&
    event.time >= q.since &&
    event.time < q.until &&
    (q.types === undefined || q.types.matches(event.type));
  const scanLimit = Math.max(ctx.scanLimit, q.limit + 1);

  let truncated = false;
  let restarts = 0;
  let cursorEpoch = after?.epoch ?? '';
  /** Exclusive bound: the last id scanned (forward: lower bound; backward: upper bound). */
  let position: RedisId | undefined = after?.id;
  let wantFacts = !q.backward && after !== undefined;
  let scanned = 0;
  let scannedBytes = 0;
  const events: StoredEvent[] = [];
  for (;;) {
    const need = q.limit + 1 - events.length;
    let count = Math.min(
      filtering ? Math.max(need, SCAN_CHUNK.min) : need,
      SCAN_CHUNK.max,
      scanLimit - scanned,
    );
    // A cursor of an epoch other than the last one seen is most likely stale or forged: its
    // first chunk is one entry, which the answer (truncated) then drops, not a page of them.
    if (scanned === 0 && cursorEpoch !== '' && cursorEpoch !== ctx.seenEpoch.value) count = 1;
    if (scanned > 0 && scannedBytes > 0) {
      // Large events: no more entries than the rest of the byte budget holds, going by those so far.
      const room = Math.floor(((ctx.scanBytes - scannedBytes) * scanned) / scannedBytes);
      count = Math.max(1, Math.min(count, room));
    }
    const hidden =
      wantFacts && cutoff !== '' && compareIds(position!, cutoff) < 0
        ? [`(${position}`, `(${cutoff}`]
        : ['', ''];
    const [start, end] = bounds(position, cutoff, q.backward);
    const reply = await readChunk(ctx, {
      view,
      viewMark,
      range: [q.backward ? 'XREVRANGE' : 'XRANGE', view, start, end, 'COUNT', String(count)],
      cursorEpoch,
      wantFacts,
      hidden,
    });
    ctx.seenEpoch.value = reply.epoch;
    if (reply.otherEpoch) {
      // The store's epoch is not the cursor's (Redis lost its data, or it was flushed, or the
      // cursor is forged): what it pointed into is gone. If that happened between two chunks
      // of this read, what was read so far still stands.
      if (events.length > 0) return page(events, events[events.length - 1]!.cursor, truncated);
      if (after !== undefined) return page([], undefined, true);
      // A read from the start whose first chunks were of the old epoch: the new one from its start.
      if (++restarts > MAX_EPOCH_RESTARTS) {
        throw new StoreUnavailableError('The Redis store changed epoch repeatedly during one read');
      }
      cursorEpoch = '';
      position = undefined;
      continue;
    }
    if (reply.entries.length > 0 && reply.epoch === '') {
      throw new StoreUnavailableError(
        `Events found without an epoch key (${ctx.keys.epoch}): was it deleted?`,
      );
    }
    cursorEpoch = reply.epoch;
    if (reply.facts !== undefined)
      truncated ||= isTruncated(position!, reply.facts, token !== undefined, cutoff);
    wantFacts = false;
    for (const entry of reply.entries) {
      position = entry.id;
      scanned++;
      scannedBytes += entrySize(entry);
      const event = decodeEntry(entry, reply.epoch);
      if (event instanceof UndecodableEntry) {
        ctx.invalid.report(view, entry.id, event.reason, event.cause);
        continue;
      }
      if (!matches(event)) continue;
      // One match past a full page proves there is more: only then is `next` set.
      if (events.length === q.limit) return page(events, events[events.length - 1]!.cursor, truncated);
      events.push(event);
    }
    if (reply.entries.length < count) {
      // Nothing from the newest end: name the log's end, so a feed placed here can tell later
      // whether retention passed it (ReadPage.head).
      if (events.length === 0 && q.backward && after === undefined)
        return { events, head: headCursor(await readLogHead(ctx.calls, ctx.connection, ctx.keys)) };
      return page(events, undefined, truncated);
    }
    if (scanned >= scanLimit || scannedBytes >= ctx.scanBytes) {
      // The budget is spent: more may follow the last entry examined.
      return page(events, formatCursor(cursorEpoch, position!), truncated);
    }
  }
}

/** XRANGE bounds (XREVRANGE: end first) after `position`, never before the retention cutoff. */
function bounds(position: RedisId | undefined, cutoff: RedisId | '', backward: boolean): [string, string] {
  if (backward) return [position === undefined ? '+' : `(${position}`, cutoff === '' ? '-' : cutoff];
  if (position === undefined || (cutoff !== '' && compareIds(position, cutoff) < 0)) {
    return [cutoff === '' ? '-' : cutoff, '+'];
  }
  return [`(${position}`, '+'];
}

function page(events: StoredEvent[], next: string | undefined, truncated: boolean): ReadPage {
  const result: ReadPage = { events };
  if (next !== undefined) result.next = next;
  if (truncated) result.truncated = true;
  return result;
}

interface ChunkRequest {
  view: string;
  viewMark: string;
  /** The XRANGE / XREVRANGE command of the chunk. */
  range: string[];
  cursorEpoch: string;
  wantFacts: boolean;
  /** Bounds of the range hidden by the retention cutoff, or ['', ''] to skip that check. */
  hidden: string[];
}

/**
 * One chunk of entries with the epoch they belong to (and the truncation facts on request).
 * The entries come from a plain XRANGE, not from a script: Redis converts every entry a script
 * reads into Lua values and back, which cost 4 µs per event, eight times the XRANGE itself.
 * Without a script the read is not atomic, so it is bracketed by two snapshots of what decides
 * the answer (the epoch; with facts also the view's trim mark, the `dropped` mark and whether
 * the view exists), all pipelined on one connection: when both snapshots agree, the XRANGE
 * between them saw that state (marks only grow, so an unchanged mark means nothing was trimmed
 * in between); when they differ, the chunk is read again.
 */
async function readChunk(ctx: ReadContext, r: ChunkRequest): Promise<ReadReply> {
  const { calls, connection, keys } = ctx;
  for (let races = 0; ; races++) {
    const snapshot = (): Promise<RedisReply[]> =>
      Promise.all([
        calls.send(connection, ['MGET', keys.epoch, r.viewMark, keys.dropped]),
        r.wantFacts ? calls.send(connection, ['EXISTS', r.view]) : Promise.resolve(0),
      ]);
    // Sent back to back without awaiting in between: pipelined, executed in this order.
    const before = snapshot();
    const hidden =
      r.wantFacts && r.hidden[0] !== ''
        ? calls.send(connection, ['XRANGE', r.view, r.hidden[0]!, r.hidden[1]!, 'COUNT', '1'])
        : Promise.resolve(null);
    const range = calls.send(connection, r.range);
    const after = snapshot();
    const [b, hiddenReply, rangeReply, a] = await Promise.all([before, hidden, range, after]);
    const [epoch, mark, dropped] = strings(b[0]!);
    const [epochAfter, markAfter, droppedAfter] = strings(a[0]!);
    const stable =
      epoch === epochAfter &&
      (!r.wantFacts || (mark === markAfter && dropped === droppedAfter && Number(b[1]) === Number(a[1])));
    if (!stable) {
      if (races >= MAX_RACES) {
        throw new StoreUnavailableError('The Redis store changed during every attempt to read one page');
      }
      continue;
    }
    if (r.cursorEpoch !== '' && r.cursorEpoch !== epoch) return { otherEpoch: true, epoch };
    const entries = parseEntries(rangeReply);
    if (!r.wantFacts) return { otherEpoch: false, epoch, entries };
    const facts: TruncationFacts = {
      mark,
      dropped,
      exists: Number(b[1]) === 1,
      hidden: Array.isArray(hiddenReply) && hiddenReply.length > 0,
    };
    return { otherEpoch: false, epoch, entries, facts };
  }
}

/** The MGET reply of epoch, view mark and `dropped`, '' for a missing key. */
function strings(reply: RedisReply): [epoch: string, mark: string, dropped: string] {
  if (!Array.isArray(reply) || reply.length !== 3) {
    throw new StoreUnavailableError('Unexpected MGET reply from Redis');
  }
  const [epoch, mark, dropped] = reply.map((value) => (typeof value === 'string' ? value : ''));
  return [epoch!, mark!, dropped!];
}
