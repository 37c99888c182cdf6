import { ClosedError, InvalidOptionError, StoreUnavailableError } from '../../errors.js';
import { type BusEvent, describe, type StoredEvent } from '../../event.js';
import { positiveInteger } from '../../option-checks.js';
import { checkAppendInput } from '../append-input.js';
import type { AppendResult, EventStore, ReadPage, ReadQuery, StoreStats } from '../event-store.js';
import { checkReadQuery } from '../read-query.js';
import { BlockingConnection } from './blocking-connection.js';
import { isIoRedisClient } from './ioredis-client.js';
import { APPEND, CLEANUP } from './lua-scripts.js';
import { isNodeRedisClient, type NodeRedisClientLike, nodeRedisClient } from './node-redis-client.js';
import { RedisCalls } from './redis-calls.js';
import type { RedisConnection } from './redis-connection.js';
import { formatCursor, isEpoch, newEpoch, type ParsedCursor, parseCursor } from './redis-cursor.js';
import { encodeStreamName, RedisKeys } from './redis-keys.js';
import { readPage } from './redis-read.js';
import { encodeEvent, parseAppendReply } from './redis-replies.js';
import { tailLog } from './redis-tail.js';

export interface RedisEventStoreOptions {
  /**
   * A connected node-redis (v5+) client, or any `RedisConnection` (`ioredisClient(redis)` for
   * ioredis). The caller owns it: `close()` never closes it.
   */
  client: NodeRedisClientLike | RedisConnection;
  /** Namespace of every key, used as the Cluster hash tag `{prefix}`; no braces. @default 'busline' */
  prefix?: string;
  /** Events a stream keeps; its oldest go first (exact trimming). @default 1000 */
  maxEventsPerStream?: number;
  /** Events the log of all streams keeps; the oldest go first, from their streams too. @default 100000 */
  maxEvents?: number;
  /** Events older than this (by the time Redis stored them) are not returned and are removed. @default unlimited */
  retentionMs?: number;
  /** How long one blocking read of `tail` waits for new events (XREAD BLOCK). @default 1000 */
  blockMs?: number;
  /** Most events one read of `tail` fetches (XREAD COUNT). @default 256 */
  tailBatchSize?: number;
  /** How long any command may take before the call rejects with StoreUnavailableError. @default 5000 */
  commandTimeoutMs?: number;
  /** Time source for the retention cutoff. @default Date.now */
  clock?: () => number;
}

export const REDIS_STORE_DEFAULTS = {
  prefix: 'busline',
  maxEventsPerStream: 1000,
  maxEvents: 100_000,
  blockMs: 1000,
  tailBatchSize: 256,
  commandTimeoutMs: 5000,
  /** Stream keys expire this long after `retentionMs` of idleness (slack for clock skew). */
  expirySlackMs: 1000,
  /** Aged events an append removes at most besides its own count (the rest: later, or `cleanup`). */
  ageTrimPerAppend: 256,
  /** Events one cleanup script call removes; `cleanup` loops until done. */
  cleanupBatch: 1000,
} as const;

/**
 * An EventStore on Redis Streams (Redis 7+), shared by every process that uses the same
 * `prefix`: a log stream of all events for cross-stream order and the live feed (`tail`), one
 * stream per event stream so replaying one never scans the others, both written by one Lua
 * script per `append` with the same Redis id, which is the cursor. See docs/redis.md.
 *
 * @example
 * const client = await createClient({ url }).on('error', console.error).connect();
 * const bus = new EventBus({ store: new RedisEventStore({ client, retentionMs: 86_400_000 }) });
 */
export class RedisEventStore implements EventStore {
  readonly #connection: RedisConnection;
  readonly #keys: RedisKeys;
  readonly #calls: RedisCalls;
  readonly #blocking: BlockingConnection;
  readonly #maxPerStream: number;
  readonly #maxEvents: number;
  readonly #retentionMs: number | undefined;
  readonly #blockMs: number;
  readonly #tailBatchSize: number;
  readonly #commandTimeoutMs: number;
  readonly #clock: () => number;
  readonly #closed = new AbortController();
  #tailRetries = 0;

  constructor(options: RedisEventStoreOptions) {
    if (options === null || typeof options !== 'object') {
      throw new InvalidOptionError(
        `Expected RedisEventStore options with a \`client\`, got ${describe(options)}`,
      );
    }
    this.#connection = connectionOf(options.client);
    this.#keys = new RedisKeys(options.prefix ?? REDIS_STORE_DEFAULTS.prefix);
    const d = REDIS_STORE_DEFAULTS;
    this.#maxPerStream = positiveInteger(
      'maxEventsPerStream',
      options.maxEventsPerStream,
      d.maxEventsPerStream,
    );
    this.#maxEvents = positiveInteger('maxEvents', options.maxEvents, d.maxEvents);
    this.#retentionMs =
      options.retentionMs === undefined ? undefined : positiveInteger('retentionMs', options.retentionMs, 0);
    this.#blockMs = positiveInteger('blockMs', options.blockMs, d.blockMs);
    this.#tailBatchSize = positiveInteger('tailBatchSize', options.tailBatchSize, d.tailBatchSize);
    this.#commandTimeoutMs = positiveInteger(
      'commandTimeoutMs',
      options.commandTimeoutMs,
      d.commandTimeoutMs,
    );
    if (options.clock !== undefined && typeof options.clock !== 'function') {
      throw new InvalidOptionError(`Expected \`clock\` to be a function, got ${describe(options.clock)}`);
    }
    this.#clock = options.clock ?? Date.now;
    this.#calls = new RedisCalls(this.#commandTimeoutMs);
    this.#blocking = new BlockingConnection(this.#connection, this.#commandTimeoutMs);
  }

  async append(events: readonly BusEvent[]): Promise<AppendResult[]> {
    this.#assertOpen();
    checkAppendInput(events);
    if (events.length === 0) return [];
    const cutoff = this.#cutoffMs();
    const args = [
      // A fresh candidate per call: after Redis comes back empty, the next writer starts a new
      // epoch, even this same store (a per-instance value would revive the old epoch).
      newEpoch(),
      this.#keys.base,
      String(this.#maxPerStream),
      String(this.#maxEvents),
      cutoff === undefined ? '' : String(cutoff),
      this.#retentionMs === undefined ? '' : String(this.#retentionMs + REDIS_STORE_DEFAULTS.expirySlackMs),
      String(Math.max(REDIS_STORE_DEFAULTS.ageTrimPerAppend, events.length)),
    ];
    for (let i = 0; i < events.length; i++) {
      const event = events[i]!;
      args.push(event.id, encodeStreamName(event.stream), encodeEvent(event, i));
    }
    const k = this.#keys;
    const reply = await this.#calls.script(
      this.#connection,
      APPEND,
      [k.epoch, k.log, k.ids, k.streams, k.logMark, k.dropped],
      args,
    );
    const { epoch, ids, duplicates } = parseAppendReply(reply, events.length);
    this.#checkEpoch(epoch);
    return events.map((event, i) => ({
      id: event.id,
      cursor: formatCursor(epoch, ids[i]!),
      duplicate: duplicates[i]!,
    }));
  }

  async read(query: ReadQuery = {}): Promise<ReadPage> {
    this.#assertOpen();
    const q = checkReadQuery(query);
    const after = q.after === undefined ? undefined : this.#parseCursor(q.after);
    return readPage(
      {
        connection: this.#connection,
        calls: this.#calls,
        keys: this.#keys,
        cutoffMs: () => this.#cutoffMs(),
      },
      q,
      after,
    );
  }

  async has(id: string): Promise<boolean> {
    this.#assertOpen();
    if (typeof id !== 'string')
      throw new InvalidOptionError(`Expected an event id string, got ${describe(id)}`);
    return (await this.#calls.send(this.#connection, ['HEXISTS', this.#keys.ids, id])) === 1;
  }

  /**
   * Live events of every process, strictly after `after` ('start', 'now' or a cursor), until
   * `signal` aborts or the store closes. Ends with HistoryTruncatedError when it cannot continue
   * without a gap (see docs/redis.md, "tail"); connection errors are retried, not thrown.
   */
  tail(after: string | 'start' | 'now', signal: AbortSignal): AsyncIterable<StoredEvent> {
    return tailLog(
      {
        connection: this.#connection,
        blocking: this.#blocking,
        calls: this.#calls,
        keys: this.#keys,
        blockMs: this.#blockMs,
        batchSize: this.#tailBatchSize,
        commandTimeoutMs: this.#commandTimeoutMs,
        closed: this.#closed.signal,
        onRetry: () => this.#tailRetries++,
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
    if (this.#retentionMs === undefined || now - this.#retentionMs <= 0) return 0;
    const cutoff = String(Math.floor(now - this.#retentionMs));
    const batch = REDIS_STORE_DEFAULTS.cleanupBatch;
    const k = this.#keys;
    let removed = 0;
    for (;;) {
      const reply = await this.#calls.script(
        this.#connection,
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
    const k = this.#keys;
    const cutoff = this.#cutoffMs();
    const [events, streams, memory, epoch] = await Promise.all([
      this.#calls.send(this.#connection, ['XLEN', k.log]),
      cutoff === undefined
        ? this.#calls.send(this.#connection, ['ZCARD', k.streams])
        : this.#calls.send(this.#connection, ['ZCOUNT', k.streams, String(cutoff), '+inf']),
      // An estimate (sampled); left out where MEMORY is not allowed (ACLs, some hosted Redis).
      this.#calls.send(this.#connection, ['MEMORY', 'USAGE', k.log]).catch(() => null),
      this.#calls.send(this.#connection, ['GET', k.epoch]),
    ]);
    const stats: StoreStats = {
      events: Number(events),
      streams: Number(streams),
      maxEventsPerStream: this.#maxPerStream,
      maxEvents: this.#maxEvents,
      tails: this.#blocking.users,
      tailRetries: this.#tailRetries,
      blockingConnections: this.#blocking.opened,
    };
    if (this.#retentionMs !== undefined) stats.retentionMs = this.#retentionMs;
    if (typeof memory === 'number') stats.logMemoryBytes = memory;
    if (typeof epoch === 'string') stats.epoch = epoch;
    return stats;
  }

  /** Ends the tails and closes the blocking connection; the caller's client stays open. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed.signal.aborted) return;
    this.#closed.abort();
    this.#blocking.close();
  }

  #cutoffMs(): number | undefined {
    if (this.#retentionMs === undefined) return undefined;
    const cutoff = Math.floor(this.#clock() - this.#retentionMs);
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
        `The key ${this.#keys.epoch} holds ${JSON.stringify(epoch)}, not a busline epoch: is another program using it?`,
      );
    }
  }

  #assertOpen(): void {
    if (this.#closed.signal.aborted) throw new ClosedError('The Redis event store is closed');
  }
}

function connectionOf(client: unknown): RedisConnection {
  if (isNodeRedisClient(client)) return nodeRedisClient(client);
  if (isIoRedisClient(client)) {
    throw new InvalidOptionError('Wrap an ioredis client with ioredisClient(redis) from busline/redis');
  }
  const port = client as Partial<RedisConnection> | null;
  if (
    typeof port === 'object' &&
    port !== null &&
    typeof port.send === 'function' &&
    typeof port.duplicate === 'function' &&
    typeof port.destroy === 'function'
  ) {
    return port as RedisConnection;
  }
  throw new InvalidOptionError(
    `Expected \`client\` to be a connected node-redis client or a RedisConnection, got ${describe(client)}`,
  );
}
