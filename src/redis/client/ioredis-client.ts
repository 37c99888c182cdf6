import { InvalidOptionError } from '../../errors.js';
import {
  CommandNotSentError,
  normalizeReply,
  type RedisConnection,
  type RedisReply,
  raceAbort,
} from './redis-connection.js';

/** ioredis's rejection of a command it did not write or queue (`enableOfflineQueue: false`). */
const OFFLINE = "Stream isn't writeable and enableOfflineQueue options is false";

/** Why a command was not sent when the caller's client is closed. */
const CALLER_CLOSED =
  "The ioredis client is closed (status 'end'): call `await redis.connect()` before busline uses it, and close the bus and the store before the client";
/** The same for a connection the store opened itself (`duplicate()`), which only the store closes. */
const COPY_CLOSED = "The store's own ioredis connection is closed";

/** The part of an ioredis (v5+) `Redis` instance the adapter uses; busline never imports `ioredis`. */
export interface IoRedisClientLike {
  call(command: string, ...args: string[]): Promise<unknown>;
  duplicate(override?: { lazyConnect?: boolean }): IoRedisClientLike;
  connect(): Promise<void>;
  disconnect(): void;
  on(event: 'error', listener: (error: Error) => void): unknown;
  /** `'end'` once closed for good. */
  readonly status: string;
}

/** True for something shaped like an ioredis client. */
export function isIoRedisClient(value: unknown): value is IoRedisClientLike {
  const client = value as Partial<IoRedisClientLike> | null;
  return (
    typeof client === 'object' &&
    client !== null &&
    typeof client.call === 'function' &&
    typeof client.duplicate === 'function' &&
    typeof client.status === 'string'
  );
}

/**
 * Adapts an ioredis client for `RedisEventStore`:
 *
 * @example
 * import { Redis } from 'ioredis';
 * import { RedisEventStore, ioredisClient } from 'busline/redis';
 * const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
 * const store = new RedisEventStore({ client: ioredisClient(redis) });
 *
 * Notes: ioredis cannot withdraw a command it queued while disconnected, so after a timeout
 * the command may still run on reconnect (appends are idempotent by id, so that is harmless;
 * `enableOfflineQueue: false` makes calls fail at once instead). A client-wide
 * `commandTimeout` must be longer than the store's `blockMs`, or blocking reads time out.
 */
export function ioredisClient(client: IoRedisClientLike): RedisConnection {
  if (!isIoRedisClient(client)) {
    throw new InvalidOptionError('Expected an ioredis client (new Redis() of the `ioredis` package)');
  }
  // A client that is not closed connects by itself (also with `lazyConnect`, on its first
  // command); one that was closed fails every command until someone calls connect().
  if (client.status === 'end') {
    throw new InvalidOptionError(
      "Expected an ioredis client that is not closed, got one whose status is 'end' (after quit() or disconnect()): call `await redis.connect()` before passing it to busline",
    );
  }
  return new IoRedisConnection(client, CALLER_CLOSED);
}

class IoRedisConnection implements RedisConnection {
  readonly #client: IoRedisClientLike;
  /** What a command fails with once the client is closed: the caller's client and the store's copies differ. */
  readonly #closedMessage: string;

  constructor(client: IoRedisClientLike, closedMessage: string) {
    this.#client = client;
    this.#closedMessage = closedMessage;
  }

  get isOpen(): boolean {
    return this.#client.status !== 'end';
  }

  async send(args: readonly string[]): Promise<RedisReply> {
    // Checked here: ioredis's own "Connection is closed." also fails commands already written.
    if (this.#client.status === 'end') throw new CommandNotSentError(this.#closedMessage);
    const [command, ...rest] = args;
    let reply: unknown;
    try {
      reply = await this.#client.call(command!, ...rest);
    } catch (error) {
      if (error instanceof Error && error.message === OFFLINE) {
        throw new CommandNotSentError(error.message, { cause: error });
      }
      throw error;
    }
    return normalizeReply(reply);
  }

  async duplicate(signal?: AbortSignal): Promise<RedisConnection> {
    const copy = this.#client.duplicate({ lazyConnect: true });
    // Without a listener, ioredis logs every connection error of the copy as unhandled.
    copy.on('error', () => {});
    try {
      await raceAbort(copy.connect(), signal);
    } catch (error) {
      copy.disconnect();
      throw error;
    }
    return new IoRedisConnection(copy, COPY_CLOSED);
  }

  destroy(): void {
    this.#client.disconnect();
  }
}
