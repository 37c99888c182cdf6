import { abortableSleep } from '../../abortable-sleep.js';
import { ClosedError, HistoryTruncatedError, InvalidOptionError } from '../../errors.js';
import { describe, type StoredEvent } from '../../event.js';
import { checkSignal } from '../../option-checks.js';
import type { BlockingConnection } from '../client/blocking-connection.js';
import type { RedisCalls } from '../client/redis-calls.js';
import type { RedisConnection, RedisReply } from '../client/redis-connection.js';
import type { InvalidEntries } from './invalid-entries.js';
import { entryParts } from './log-entry.js';
import { type LogHead, readLogHead } from './log-head.js';
import { compareIds, formatCursor, maxId, parseCursor, type RedisId } from './redis-cursor.js';
import type { RedisKeys } from './redis-keys.js';
import { decodeEntry, parseXRead, UndecodableEntry } from './redis-replies.js';

export interface TailContext {
  /** The caller's connection, for the one non-blocking call that positions the tail. */
  connection: RedisConnection;
  blocking: BlockingConnection;
  calls: RedisCalls;
  keys: RedisKeys;
  blockMs: number;
  batchSize: number;
  commandTimeoutMs: number;
  /** Aborted when the store closes. */
  closed: AbortSignal;
  /** Called for each failed read that the tail retries. */
  onRetry(error: unknown): void;
  /** Where entries that are not events are reported (and skipped). */
  invalid: InvalidEntries;
  /** Entries the caller has no use for, by id and type (TailOptions.skip): left out undecoded. */
  skip: ((id: string, type: string, cursor: () => string) => boolean) | undefined;
}

/** Waits between retries after a failed read: doubling from `first` up to `max`, with jitter. */
export const TAIL_BACKOFF = { firstMs: 50, maxMs: 2000 } as const;

/**
 * The live feed: events of the log strictly after `after`, read with XREAD BLOCK on the blocking
 * connection, always from the last id seen. Never `$` after the first read: `$` means "newer
 * than whatever is newest when this XREAD arrives", so events appended between two reads would
 * be lost. Each XREAD is pipelined with an MGET of the epoch and the log's trim mark:
 *
 * - a different epoch (Redis came back empty) ends the tail with HistoryTruncatedError;
 * - a trim mark above the id the read started from means retention removed events the tail may
 *   not have read (it fell behind `maxEvents` / `retentionMs`): HistoryTruncatedError too.
 *
 * A connection error is retried with backoff, from the last id seen; aborting `signal` (or
 * closing the store) ends the iteration at once. The caller's client closed for good (`isOpen`
 * false) ends it with ClosedError: nothing can be positioned or written through it again. An
 * entry that is not an event is reported and skipped, never thrown: a tail restarted from the
 * last id seen would meet it again, forever.
 */
export async function* tailLog(
  ctx: TailContext,
  after: string,
  signal: AbortSignal,
): AsyncGenerator<StoredEvent, void, undefined> {
  if (ctx.closed.aborted) throw new ClosedError('The Redis event store is closed');
  // A non-string would throw a TypeError in the regex (a Symbol) or in JSON.stringify (a BigInt).
  const cursor =
    after === 'start' || after === 'now' || typeof after !== 'string' ? undefined : parseCursor(after);
  if (after !== 'start' && after !== 'now' && cursor === undefined) {
    throw new InvalidOptionError(
      `Expected \`after\` to be 'start', 'now' or a cursor of this store, got ${typeof after === 'string' ? JSON.stringify(after) : describe(after)}`,
    );
  }
  if (checkSignal(signal) === undefined)
    throw new InvalidOptionError('Expected `signal` to be an AbortSignal (the tail runs until it aborts)');
  const stop = linkedAbort(signal, ctx.closed);
  ctx.blocking.retain();
  try {
    let failures = 0;
    let start: LogHead | undefined;
    while (start === undefined) {
      try {
        start = await readLogHead(ctx.calls, ctx.connection, ctx.keys, stop.signal);
      } catch (error) {
        if (stop.signal.aborted) return;
        if (isClosedForGood(ctx.connection)) throw clientClosed(error);
        ctx.onRetry(error);
        await abortableSleep(backoff(++failures), stop.signal);
      }
    }
    const { epoch, newest, mark } = start;
    let last: RedisId;
    if (cursor !== undefined) {
      if (cursor.epoch !== epoch) throw truncated(`cursor ${after} is from an earlier epoch of the store`);
      if (mark !== '' && compareIds(cursor.id, mark) < 0) {
        throw truncated(`events after cursor ${after} were removed by retention`);
      }
      last = cursor.id;
    } else {
      // Everything up to the trim mark is gone, so 'start' begins after it.
      last = (after === 'now' ? maxId(newest, mark) : mark) || '0-0';
    }
    failures = 0;
    const batchSize = String(ctx.batchSize);
    const blockMs = String(ctx.blockMs);
    while (!stop.signal.aborted) {
      // The blocking connection works on after the caller's client is closed, and would keep the
      // process alive: a closed client ends the tail (within one blockMs), which releases it.
      if (isClosedForGood(ctx.connection)) throw clientClosed();
      let reply: RedisReply;
      let marks: RedisReply;
      let connection: RedisConnection | undefined;
      try {
        connection = ctx.blocking.current ?? (await ctx.blocking.get(stop.signal));
        [reply, marks] = (await ctx.calls.sendAll(
          connection,
          [
            ['XREAD', 'COUNT', batchSize, 'BLOCK', blockMs, 'STREAMS', ctx.keys.log, last],
            ['MGET', ctx.keys.epoch, ctx.keys.logMark],
          ],
          { signal: stop.signal, timeoutMs: ctx.blockMs + ctx.commandTimeoutMs },
        )) as [RedisReply, RedisReply];
      } catch (error) {
        if (stop.signal.aborted) return;
        ctx.onRetry(error);
        if (connection !== undefined) ctx.blocking.discard(connection);
        await abortableSleep(backoff(++failures), stop.signal);
        continue;
      }
      failures = 0;
      const [nowEpoch, nowMark] = Array.isArray(marks) ? marks : [];
      if (nowEpoch !== epoch)
        throw truncated('the store lost its data (Redis came back empty or was flushed)');
      if (typeof nowMark === 'string' && compareIds(nowMark, last) > 0) {
        throw truncated(
          `the tail fell behind retention: events after ${last} were removed before it read them`,
        );
      }
      const { skip } = ctx;
      // The entry's cursor for skip, made only if asked: one function for every entry (it reads
      // `last`, the entry at hand, so skip must call it at once, as the bus does).
      const cursorOfLast = (): string => formatCursor(epoch, last);
      for (const entry of parseXRead(reply)) {
        last = entry.id;
        // The id and type are apart from the JSON: an event nobody here wants is not decoded.
        // The parts are cut once: the skip check and the event share the id string (and its hash).
        const parts = entryParts(entry);
        if (skip !== undefined && parts?.type !== undefined && skip(parts.id, parts.type, cursorOfLast))
          continue;
        const event = decodeEntry(entry, epoch, parts);
        if (event instanceof UndecodableEntry) {
          ctx.invalid.report(ctx.keys.log, entry.id, event.reason, event.cause);
          continue;
        }
        yield event;
        if (stop.signal.aborted) return;
      }
    }
  } finally {
    stop.dispose();
    ctx.blocking.release();
  }
}

/** `isOpen === false` only: a RedisConnection of one's own that does not say counts as open. */
function isClosedForGood(connection: RedisConnection): boolean {
  return connection.isOpen === false;
}

function clientClosed(cause?: unknown): ClosedError {
  return new ClosedError(
    'The Redis client given to the store was closed (quit(), close() or destroy(), or it stopped reconnecting): the tail ended and closed its blocking connection. Close the bus and the store before the client',
    cause === undefined ? undefined : { cause },
  );
}

function truncated(reason: string): HistoryTruncatedError {
  return new HistoryTruncatedError(`The Redis tail cannot continue: ${reason}`);
}

function backoff(failures: number): number {
  const ms = Math.min(TAIL_BACKOFF.maxMs, TAIL_BACKOFF.firstMs * 2 ** (failures - 1));
  return ms / 2 + Math.random() * (ms / 2);
}

/** An AbortController that aborts when either signal does; `dispose` removes the listeners. */
function linkedAbort(a: AbortSignal, b: AbortSignal): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const onAbort = (): void => controller.abort();
  if (a.aborted || b.aborted) controller.abort();
  a.addEventListener('abort', onAbort, { once: true });
  b.addEventListener('abort', onAbort, { once: true });
  return {
    signal: controller.signal,
    dispose() {
      a.removeEventListener('abort', onAbort);
      b.removeEventListener('abort', onAbort);
    },
  };
}
