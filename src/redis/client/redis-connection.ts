/**
 * A reply as the store reads it: RESP2-shaped. Adapters turn RESP3 maps into arrays of
 * `[key, value]` pairs and Buffers into strings (see `normalizeReply`).
 */
export type RedisReply = string | number | null | RedisReply[];

/**
 * What a connection rejects with when it did not write the command to Redis: the client was
 * closed or offline, or the command was withdrawn through `signal` before it was written. The
 * store then knows Redis never saw it (a failed append applied nothing). `cause`: the client's error.
 */
export class CommandNotSentError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CommandNotSentError';
  }
}

export interface SendOptions {
  /** Withdraws the command if the client has not written it yet (node-redis honours it). */
  signal?: AbortSignal;
  /**
   * How long the caller will wait. The store enforces it itself and withdraws the command
   * through `signal`; an adapter whose client cannot withdraw commands may use it too.
   */
  timeoutMs?: number;
}

/**
 * The store's port to Redis: one connection that sends commands as string arrays (node-redis's
 * habit: commands are data; the store builds them, and parses replies with the pure functions
 * of `redis-replies.ts`). The store needs EVALSHA/EVAL (its Lua scripts), XRANGE/XREVRANGE, XREAD, MGET, EXISTS, XLEN,
 * ZCARD/ZCOUNT, HEXISTS, GET and MEMORY USAGE.
 * `nodeRedisClient()` and `ioredisClient()` adapt the two common clients; anything that
 * implements this interface works (a Cluster client routing by the `{prefix}` hash tag, a mock…).
 */
export interface RedisConnection {
  /**
   * Sends one command and resolves with its reply; rejects on a Redis error reply or a
   * connection error, with CommandNotSentError when the command was not written at all.
   */
  send(args: readonly string[], options?: SendOptions): Promise<RedisReply>;
  /**
   * Opens a new connection to the same server with the same options and resolves once it is
   * ready. The store makes one, lazily, for its blocking reads (`tail`), and closes it itself.
   * If `signal` aborts first, the half-open connection is closed and the promise rejects.
   */
  duplicate(signal?: AbortSignal): Promise<RedisConnection>;
  /** Closes this connection at once, failing what is pending. Called only on connections `duplicate()` made. */
  destroy(): void;
  /** False once the connection is closed for good (it will not reconnect by itself). */
  readonly isOpen: boolean;
}

/**
 * Buffers to strings, RESP3 maps (Map or plain object) to arrays of `[key, value]` pairs, recursively.
 * Arrays are normalized in place: a reply is the client's fresh copy, handed to the store alone,
 * and the live feed's replies (arrays of strings, mostly) would otherwise be copied whole.
 */
export function normalizeReply(reply: unknown): RedisReply {
  if (reply === null || reply === undefined) return null;
  if (typeof reply === 'string' || typeof reply === 'number') return reply;
  if (typeof reply === 'bigint' || typeof reply === 'boolean')
    return typeof reply === 'boolean' ? Number(reply) : String(reply);
  if (Buffer.isBuffer(reply)) return reply.toString('utf8');
  if (Array.isArray(reply)) {
    for (let i = 0; i < reply.length; i++) {
      const item: unknown = reply[i];
      if (typeof item !== 'string') reply[i] = normalizeReply(item);
    }
    return reply as RedisReply[];
  }
  if (reply instanceof Map)
    return [...reply].map(([key, value]) => [normalizeReply(key), normalizeReply(value)]);
  if (typeof reply === 'object') {
    return Object.entries(reply).map(([key, value]) => [key, normalizeReply(value)]);
  }
  return String(reply);
}

/** Resolves or rejects like `promise`, or rejects with the abort reason once `signal` aborts. */
export function raceAbort<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
