import { ClosedError, EventTooLargeError, InvalidOptionError, StoreUnavailableError } from '../../errors.js';
import { type BusEvent, describe, type StoredEvent } from '../../event.js';
import { GROUP_BACKEND, type GroupBackend, type GroupBackendContext } from '../../groups/group-backend.js';
import { appendValidated, checkAppendInput } from '../../store/append-input.js';
import type {
  AppendResult,
  EventStore,
  ReadPage,
  ReadQuery,
  StoreStats,
  TailOptions,
} from '../../store/event-store.js';
import { checkReadQuery } from '../../store/read-query.js';
import { BlockingConnection } from '../client/blocking-connection.js';
import { RedisCalls } from '../client/redis-calls.js';
import { RedisGroupBackend } from '../groups/redis-group-backend.js';
import { appendChunks, appendFailed } from './append-chunks.js';
import { InvalidEntries } from './invalid-entries.js';
import { packEntry } from './log-entry.js';
import { APPEND, CLEANUP } from './lua-scripts.js';
import { formatCursor, isEpoch, newEpoch, type ParsedCursor, parseCursor } from './redis-cursor.js';
import { encodeStreamName } from './redis-keys.js';
import { readPage } from './redis-read.js';
import { encodeEvent, parseAppendReply } from './redis-replies.js';
import {
  REDIS_STORE_DEFAULTS,
  type RedisEventStoreOptions,
  type ResolvedStoreOptions,
  resolveStoreOptions,
} from './redis-store-options.js';
import { tailLog } from './redis-tail.js';

export { REDIS_STORE_DEFAULTS, type RedisEventStoreOptions } from './redis-store-options.js';

/**
 * An EventStore on Redis Streams (Redis 7+), shared by every process that uses the same
 * `prefix`: a log stream of all events for cross-stream order and the live feed (`tail`), one
 * stream per event stream so replaying one never scans the others, both written by the same
 * Lua script call with the same Redis id, which is the cursor. See docs/redis.md.
 *
 * @example
 * const client = await createClient({ url }).on('error', console.error).connect();
 * const bus = new EventBus({ store: new RedisEventStore({ client, retentionMs: 86_400_000 }) });
 */
export class RedisEventStore implements EventStore {
  readonly #o: ResolvedStoreOptions;
  readonly #calls: RedisCalls;
  readonly #blocking: BlockingConnection;
  readonly #closed = new AbortController();
  readonly #invalid: InvalidEntries;
  /** The epoch the last read saw: a cursor of another one is probed with one entry, not a page. */
  readonly #seenEpoch = { value: '' };
  #tailRetries = 0;

  constructor(options: RedisEventStoreOptions) {
    this.#o = resolveStoreOptions(options);
    this.#invalid = new InvalidEntries(this.#o.onInvalidEntry);
    this.#calls = new RedisCalls(this.#o.commandTimeoutMs);
    this.#blocking = new BlockingConnection(this.#o.connection, this.#o.commandTimeoutMs);
  }

  /**
   * Appends with the append script, idempotent by id. Up to `appendChunkEvents` events (and
   * `appendChunkBytes` of JSON) it is one script call, atomic; a larger call is split into
   * script calls of that size, run one after the other: each is atomic, the whole is not
   * (events of another writer may fall between two, and a failure leaves the chunks before it
   * stored). Retrying the whole call with the same ids completes it: stored events answer
   * `duplicate` with their cursors. Every event is validated and serialized before the first
   * call, so invalid input writes nothing.
   */
  append(events: readonly BusEvent[]): Promise<AppendResult[]> {
    try {
      this.#assertOpen();
      // Copies, each field read once: what is written is what was checked.
      return this[appendValidated](checkAppendInput(events));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** `append` for events already validated (the bus's own, see appendValidated). @internal */
  async [appendValidated](events: readonly BusEvent[]): Promise<AppendResult[]> {
    this.#assertOpen();
    if (events.length === 0) return [];
    const encoded = events.map((event, i) => encodeEvent(event, i));
    const max = this.#o.maxEventBytes;
    for (let i = 0; i < encoded.length; i++) {
      // What is written is measured, not what the bus measured: an event can grow after publish.
      if (encoded[i]!.length * 3 > max && Buffer.byteLength(encoded[i]!, 'utf8') > max)
        throw new EventTooLargeError(max, { index: events.length > 1 ? i : undefined });
    }
    const results: AppendResult[] = [];
    for (const [from, to] of appendChunks(encoded, this.#o.appendChunkEvents, this.#o.appendChunkBytes)) {
      try {
        results.push(...(await this.#appendChunk(events, encoded, from, to)));
      } catch (error) {
        throw appendFailed(error, events.length, from);
      }
    }
    return results;
  }

  /** One append script call: events[from, to), atomic. */
  async #appendChunk(
    events: readonly BusEvent[],
    encoded: readonly string[],
    from: number,
    to: number,
  ): Promise<AppendResult[]> {
    const cutoff = this.#cutoffMs();
    const args = [
      // A fresh candidate per call: after Redis comes back empty, the next writer starts a new
      // epoch, even this same store (a per-instance value would revive the old epoch).
      newEpoch(),
      this.#o.keys.base,
      String(this.#o.maxEventsPerStream),
      String(this.#o.maxEvents),
      cutoff === undefined ? '' : String(cutoff),
      this.#o.retentionMs === undefined
        ? ''
        : String(this.#o.retentionMs + REDIS_STORE_DEFAULTS.expirySlackMs),
      String(Math.max(REDIS_STORE_DEFAULTS.ageTrimPerAppend, to - from)),
    ];
    for (let i = from; i < to; i++) {
      const event = events[i]!;
      const token = encodeStreamName(event.stream);
      args.push(event.id, token, packEntry(event.id, token, event.type, encoded[i]!));
    }
    const k = this.#o.keys;
    const reply = await this.#calls.script(
      this.#o.connection,
      APPEND,
      [k.epoch, k.log, k.ids, k.streams, k.logMark, k.dropped],
      args,
    );
    const { epoch, ids, duplicates } = parseAppendReply(reply, to - from);
    this.#checkEpoch(epoch);
    const results: AppendResult[] = [];
    for (let i = from; i < to; i++) {
      results.push({
        id: events[i]!.id,
        cursor: formatCursor(epoch, ids[i - from]!),
        duplicate: duplicates[i - from]!,
      });
    }
    return results;
  }

  /**
   * One page. Examines at most `readScanLimit` entries (at least `limit` + 1) and about 4 MiB:
   * past that it returns `next`, even with no events. A cursor of another epoch answers
   * `{ events: [], truncated: true }` with no `next`. Entries that are not events are skipped
   * (reported to `onInvalidEntry`).
   */
  async read(query: ReadQuery = {}): Promise<ReadPage> {
    this.#assertOpen();
    const q = checkReadQuery(query);
    const after = q.after === undefined ? undefined : this.#parseCursor(q.after);
    return readPage(
      {
        connection: this.#o.connection,
        calls: this.#calls,
        keys: this.#o.keys,
        cutoffMs: () => this.#cutoffMs(),
        scanLimit: this.#o.readScanLimit,
        scanBytes: REDIS_STORE_DEFAULTS.readScanBytes,
        invalid: this.#invalid,
        seenEpoch: this.#seenEpoch,
      },
      q,
      after,
    );
  }

  async has(id: string): Promise<boolean> {
    this.#assertOpen();
    if (typeof id !== 'string')
      throw new InvalidOptionError(`Expected an event id string, got ${describe(id)}`);
    return (await this.#calls.send(this.#o.connection, ['HEXISTS', this.#o.keys.ids, id])) === 1;
  }

  /**
   * Live events of every process, strictly after `after` ('start', 'now' or a cursor), until
   * `signal` aborts or the store closes. Ends with HistoryTruncatedError when it cannot continue
   * without a gap (see docs/redis.md, "tail"); connection errors are retried, not thrown, and
   * entries that are not events are skipped (reported to `onInvalidEntry`).
   */
  tail(
    after: string | 'start' | 'now',
    signal: AbortSignal,
    options?: TailOptions,
  ): AsyncIterable<StoredEvent> {
    return tailLog(
      {
        connection: this.#o.connection,
        blocking: this.#blocking,
        calls: this.#calls,
        keys: this.#o.keys,
        blockMs: this.#o.blockMs,
        batchSize: this.#o.tailBatchSize,
        commandTimeoutMs: this.#o.commandTimeoutMs,
        closed: this.#closed.signal,
        onRetry: () => this.#tailRetries++,
        invalid: this.#invalid,
        skip: typeof options?.skip === 'function' ? options.skip : undefined,
      },
      after,
      signal,
    );
  }

  /** Removes events older than `retentionMs` as of `now`; returns how many. 0 without `retentionMs`. */
  async cleanup(now: number): Promise<number> {
    this.#assertOpen();
    if (typeof now !== 'number' || Number.isNaN(now)) {
      throw new InvalidOptionError(`Expected \`now\` to be epoch milliseconds, got ${describe(now)}`);
    }
    if (this.#o.retentionMs === undefined || now - this.#o.retentionMs <= 0) return 0;
    const cutoff = String(Math.floor(now - this.#o.retentionMs));
    const batch = REDIS_STORE_DEFAULTS.cleanupBatch;
    const k = this.#o.keys;
    let removed = 0;
    for (;;) {
      const reply = await this.#calls.script(
        this.#o.connection,
        CLEANUP,
        [k.log, k.ids, k.streams, k.logMark, k.dropped],
        [k.base, cutoff, String(batch)],
      );
      removed += Number(reply);
      if (Number(reply) < batch) return removed;
    }
  }

  async stats(): Promise<StoreStats> {
    this.#assertOpen();
    const k = this.#o.keys;
    const cutoff = this.#cutoffMs();
    const [events, streams, memory, epoch] = await Promise.all([
      this.#calls.send(this.#o.connection, ['XLEN', k.log]),
      cutoff === undefined
        ? this.#calls.send(this.#o.connection, ['ZCARD', k.streams])
        : this.#calls.send(this.#o.connection, ['ZCOUNT', k.streams, String(cutoff), '+inf']),
      // An estimate (sampled); left out where MEMORY is not allowed (ACLs, some hosted Redis).
      this.#calls.send(this.#o.connection, ['MEMORY', 'USAGE', k.log]).catch(() => null),
      this.#calls.send(this.#o.connection, ['GET', k.epoch]),
    ]);
    const stats: StoreStats = {
      events: Number(events),
      streams: Number(streams),
      maxEventsPerStream: this.#o.maxEventsPerStream,
      maxEvents: this.#o.maxEvents,
      tails: this.#blocking.users,
      tailRetries: this.#tailRetries,
      blockingConnections: this.#blocking.opened,
    };
    if (this.#o.retentionMs !== undefined) stats.retentionMs = this.#o.retentionMs;
    if (typeof memory === 'number') stats.logMemoryBytes = memory;
    if (typeof epoch === 'string') stats.epoch = epoch;
    return stats;
  }

  /**
   * `bus.consume` on this store: consumer groups kept in Redis and shared by every process of
   * this prefix (docs/consumer-groups.md, "On Redis"). Called by the bus, once per bus.
   */
  [GROUP_BACKEND](context: GroupBackendContext): GroupBackend {
    this.#assertOpen();
    return new RedisGroupBackend(
      {
        connection: this.#o.connection,
        calls: this.#calls,
        keys: this.#o.keys,
        pollMs: this.#o.groupPollMs,
        maxGroupPatterns: this.#o.maxGroupPatterns,
        invalid: this.#invalid,
      },
      context,
    );
  }

  /** Ends the tails and closes the blocking connection; the caller's client stays open. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed.signal.aborted) return;
    this.#closed.abort();
    this.#blocking.close();
  }

  #cutoffMs(): number | undefined {
    if (this.#o.retentionMs === undefined) return undefined;
    const cutoff = Math.floor(this.#o.clock() - this.#o.retentionMs);
    return cutoff > 0 ? cutoff : undefined;
  }

  #parseCursor(cursor: string): ParsedCursor {
    const parsed = parseCursor(cursor);
    if (parsed === undefined) {
      throw new InvalidOptionError(
        `Expected \`after\` to be a cursor of this store, got ${JSON.stringify(cursor)}`,
      );
    }
    return parsed;
  }

  #checkEpoch(epoch: string): void {
    if (!isEpoch(epoch)) {
      throw new StoreUnavailableError(
        `The key ${this.#o.keys.epoch} holds ${JSON.stringify(epoch)}, not a busline epoch: is another program using it?`,
      );
    }
  }

  #assertOpen(): void {
    if (this.#closed.signal.aborted) throw new ClosedError('The Redis event store is closed');
  }
}
