import { InvalidOptionError } from '../../errors.js';
import { describe, EVENT_DEFAULTS } from '../../event.js';
import { optionalFunction, positiveInteger } from '../../option-checks.js';
import { toRedisConnection } from '../client/client-connection.js';
import type { NodeRedisClientLike } from '../client/node-redis-client.js';
import type { RedisConnection } from '../client/redis-connection.js';
import type { InvalidEntryHandler } from './invalid-entries.js';
import { RedisKeys } from './redis-keys.js';

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
  /**
   * How often consumer-group members look for work other processes left behind: retries that
   * fell due there, events held by a consumer that died (after its `ackTimeoutMs`), redriven
   * dead letters. New events wake members at once; this is the bound for the rest. @default 1000
   */
  groupPollMs?: number;
  /** Time source for the retention cutoff. @default Date.now */
  clock?: () => number;
  /**
   * Most entries one `read` examines (at least its `limit` + 1), and it stops too once it has
   * examined `REDIS_STORE_DEFAULTS.readScanBytes` of event JSON. A read that stops there
   * returns `next` (the last entry it examined), even with no events, so a filtered replay that
   * matches little runs as many short reads, and its caller can stop between two. @default 2000
   */
  readScanLimit?: number;
  /**
   * Most events one append script carries: a larger `append` (a `publishBatch`) is split into
   * script calls of at most this many events and `appendChunkBytes`, so no single call blocks
   * Redis for long. Each call is atomic, the whole `append` is not (see docs/redis.md,
   * "Scripts"). @default 500
   */
  appendChunkEvents?: number;
  /** Most bytes of event JSON one append script carries (an event larger than that goes alone). @default 1048576 */
  appendChunkBytes?: number;
  /**
   * Largest event this store writes, measured on the JSON it writes (UTF-8 bytes): an event
   * that grew after the bus measured it (data mutated in place, a `toJSON` that lies) is
   * refused with `EventTooLargeError` and nothing of the append is written. Set it to your
   * bus's `maxEventBytes`. @default 65536
   */
  maxEventBytes?: number;
  /**
   * Most patterns a consumer group on this store may have (the claim script matches every new
   * event type against them inside Redis). More is an InvalidPatternError naming the limit.
   * @default 256 (the bus's own bound per `consume`)
   */
  maxGroupPatterns?: number;
  /**
   * Called once per entry that is not a busline event (something else wrote under the prefix):
   * the entry is skipped by `read`, `tail` and consumer groups, which go on after it.
   * @default a console.warn, once per entry
   */
  onInvalidEntry?: InvalidEntryHandler;
}

export const REDIS_STORE_DEFAULTS = {
  prefix: 'busline',
  maxEventsPerStream: 1000,
  maxEvents: 100_000,
  blockMs: 1000,
  tailBatchSize: 256,
  commandTimeoutMs: 5000,
  groupPollMs: 1000,
  /** Stream keys expire this long after `retentionMs` of idleness (slack for clock skew). */
  expirySlackMs: 1000,
  /** Aged events an append removes at most besides its own count (the rest: later, or `cleanup`). */
  ageTrimPerAppend: 256,
  /** Events one cleanup script call removes; `cleanup` loops until done. */
  cleanupBatch: 1000,
  /** Most log entries one `read` examines (at least its limit + 1). */
  readScanLimit: 2000,
  /** Most bytes of event JSON one `read` examines before it stops with `next` (at least one chunk). */
  readScanBytes: 4 * 1024 * 1024,
  /** Most events per append script call. */
  appendChunkEvents: 500,
  /** Most bytes of event JSON per append script call. */
  appendChunkBytes: 1024 * 1024,
  /** Most patterns per consumer group. */
  maxGroupPatterns: 256,
  /** Largest event written, as UTF-8 JSON (the bus's default `maxEventBytes`). */
  maxEventBytes: EVENT_DEFAULTS.maxEventBytes,
} as const;

/** Options checked, with defaults applied. */
export interface ResolvedStoreOptions {
  connection: RedisConnection;
  keys: RedisKeys;
  maxEventsPerStream: number;
  maxEvents: number;
  retentionMs: number | undefined;
  blockMs: number;
  tailBatchSize: number;
  commandTimeoutMs: number;
  groupPollMs: number;
  clock: () => number;
  readScanLimit: number;
  appendChunkEvents: number;
  appendChunkBytes: number;
  maxGroupPatterns: number;
  maxEventBytes: number;
  onInvalidEntry: InvalidEntryHandler | undefined;
}

/** @throws InvalidOptionError naming the bad option */
export function resolveStoreOptions(options: RedisEventStoreOptions): ResolvedStoreOptions {
  if (options === null || typeof options !== 'object') {
    throw new InvalidOptionError(
      `Expected RedisEventStore options with a \`client\`, got ${describe(options)}`,
    );
  }
  const d = REDIS_STORE_DEFAULTS;
  const clock = optionalFunction('clock', options.clock);
  const onInvalidEntry = optionalFunction('onInvalidEntry', options.onInvalidEntry);
  return {
    connection: toRedisConnection(options.client),
    keys: new RedisKeys(options.prefix ?? d.prefix),
    maxEventsPerStream: positiveInteger(
      'maxEventsPerStream',
      options.maxEventsPerStream,
      d.maxEventsPerStream,
    ),
    maxEvents: positiveInteger('maxEvents', options.maxEvents, d.maxEvents),
    retentionMs:
      options.retentionMs === undefined ? undefined : positiveInteger('retentionMs', options.retentionMs, 0),
    blockMs: positiveInteger('blockMs', options.blockMs, d.blockMs),
    tailBatchSize: positiveInteger('tailBatchSize', options.tailBatchSize, d.tailBatchSize),
    commandTimeoutMs: positiveInteger('commandTimeoutMs', options.commandTimeoutMs, d.commandTimeoutMs),
    groupPollMs: positiveInteger('groupPollMs', options.groupPollMs, d.groupPollMs),
    clock: clock ?? Date.now,
    readScanLimit: positiveInteger('readScanLimit', options.readScanLimit, d.readScanLimit),
    appendChunkEvents: positiveInteger('appendChunkEvents', options.appendChunkEvents, d.appendChunkEvents),
    appendChunkBytes: positiveInteger('appendChunkBytes', options.appendChunkBytes, d.appendChunkBytes),
    maxGroupPatterns: positiveInteger('maxGroupPatterns', options.maxGroupPatterns, d.maxGroupPatterns),
    maxEventBytes: positiveInteger('maxEventBytes', options.maxEventBytes, d.maxEventBytes),
    onInvalidEntry,
  };
}
