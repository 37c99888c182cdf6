import { InvalidOptionError } from '../../errors.js';
import {
  CommandNotSentError,
  normalizeReply,
  type RedisConnection,
  type RedisReply,
  raceAbort,
  type SendOptions,
} from './redis-connection.js';

/**
 * The part of a node-redis (v5+) client the adapter uses. A `RedisClientType` from
 * `createClient()` satisfies it; busline never imports `redis` itself.
 */
export interface NodeRedisClientLike {
  sendCommand(
    args: readonly string[],
    options?: { abortSignal?: AbortSignal; timeout?: number },
  ): Promise<unknown>;
  duplicate(): NodeRedisClientLike;
  connect(): Promise<unknown>;
  destroy(): void;
  on(event: 'error', listener: (error: Error) => void): unknown;
  readonly isOpen: boolean;
  readonly isReady: boolean;
}

/** True for something shaped like a node-redis client (and not like ioredis, which has `call` and `status`). */
export function isNodeRedisClient(value: unknown): value is NodeRedisClientLike {
  const client = value as Partial<NodeRedisClientLike> | null;
  return (
    typeof client === 'object' &&
    client !== null &&
    typeof client.sendCommand === 'function' &&
    typeof client.duplicate === 'function' &&
    typeof client.isReady === 'boolean'
  );
}

/**
 * Adapts a connected node-redis v5+ client. `RedisEventStore` does this by itself when given a
 * node-redis client; call it to share one adapter between several stores or to wrap a client
 * before passing it.
 *
 * The store's blocking reads use `client.duplicate()` (same options, a new connection), with an
 * `error` listener of its own, so a Redis outage does not crash the process through it.
 */
export function nodeRedisClient(client: NodeRedisClientLike): RedisConnection {
  if (!isNodeRedisClient(client)) {
    throw new InvalidOptionError('Expected a node-redis client (from createClient() of the `redis` package)');
  }
  // node-redis refuses every command of a client that is not open, and the bus would retry
  // them until its feed timeout: say what is wrong where the client is handed over.
  if (!client.isOpen) {
    throw new InvalidOptionError(
      'Expected a connected node-redis client, got one that is not open (never connected, or closed): call `await client.connect()` before passing it to busline',
    );
  }
  return new NodeRedisConnection(client, CALLER_CLOSED);
}

class NodeRedisConnection implements RedisConnection {
  readonly #client: NodeRedisClientLike;
  /** What a command fails with once the client is closed: the caller's client and the store's copies differ. */
  readonly #closedMessage: string;

  constructor(client: NodeRedisClientLike, closedMessage: string) {
    this.#client = client;
    this.#closedMessage = closedMessage;
  }

  get isOpen(): boolean {
    return this.#client.isOpen;
  }

  async send(args: readonly string[], options: SendOptions = {}): Promise<RedisReply> {
    // The store runs its own deadline per command and withdraws it through `signal` (node-redis
    // then drops it from its queue). `timeout: 0` turns off node-redis's own per-command timer (v6
    // arms one by default, 5 s, as an AbortSignal.timeout per command: measurable on the live
    // feed's path), which would only repeat that, and keeps a client-wide `commandOptions.timeout`
    // away from the store's blocking reads.
    let reply: unknown;
    try {
      reply = await this.#client.sendCommand(args, { abortSignal: options.signal, timeout: 0 });
    } catch (error) {
      if (!isUnsent(error)) throw error;
      // node-redis's own "The client is closed" says neither whose client nor what to do.
      const message = error.message === 'The client is closed' ? this.#closedMessage : error.message;
      throw new CommandNotSentError(message, { cause: error });
    }
    return normalizeReply(reply);
  }

  async duplicate(signal?: AbortSignal): Promise<RedisConnection> {
    const copy = this.#client.duplicate();
    // Without a listener, node-redis would throw connection errors as an unhandled 'error' event.
    copy.on('error', () => {});
    const connecting = copy.connect();
    try {
      await raceAbort(connecting, signal);
    } catch (error) {
      destroyQuietly(copy);
      // node-redis (v6) finishes a connect that was under way when destroy() was called, and
      // its socket then stays open (and keeps the process alive): destroy it again once done.
      connecting.then(
        () => destroyQuietly(copy),
        () => {},
      );
      throw error;
    }
    return new NodeRedisConnection(copy, COPY_CLOSED);
  }

  destroy(): void {
    destroyQuietly(this.#client);
  }
}

/** Why a command was not sent when the caller's client is closed: it was closed, or never connected. */
const CALLER_CLOSED =
  'The node-redis client is closed: call `await client.connect()` before busline uses it, and close the bus and the store before the client';
/** The same for a connection the store opened itself (`duplicate()`), which only the store closes. */
const COPY_CLOSED = "The store's own node-redis connection is closed";

/**
 * node-redis's rejections of a command it never wrote (its own `isPreEnqueueError` set): the
 * client is closed or offline (`disableOfflineQueue`), its queue is full, or the command was
 * withdrawn through its abort signal while still queued (once written, node-redis ignores the
 * signal). By message: busline does not import `redis`, and bundlers may rename its classes.
 */
const UNSENT = new Set([
  'The client is closed',
  'The client is offline',
  'The command was aborted',
  'The queue is full',
]);

function isUnsent(error: unknown): error is Error {
  return error instanceof Error && UNSENT.has(error.message);
}

/** node-redis v5 throws ClientClosedError when destroying a closed client; v6 returns. */
function destroyQuietly(client: NodeRedisClientLike): void {
  try {
    client.destroy();
  } catch {
    // already closed
  }
}
