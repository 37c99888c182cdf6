import { StoreUnavailableError } from '../../errors.js';
import { unavailable } from './redis-calls.js';
import { type RedisConnection, raceAbort } from './redis-connection.js';

/**
 * The one connection a store opens by itself: a duplicate of the caller's client for blocking
 * reads, which would otherwise hold up every other command on the shared connection. Opened on
 * first use, shared by the store's tails (their XREADs queue on it), closed when the last tail
 * ends, re-opened by the next one.
 */
export class BlockingConnection {
  readonly #source: RedisConnection;
  readonly #connectTimeoutMs: number;
  #opening: { connection: Promise<RedisConnection>; abort: AbortController } | undefined;
  /** The connection once open (until closed): the tail's every read takes it without a promise. */
  #open: RedisConnection | undefined;
  #users = 0;
  #opened = 0;

  constructor(source: RedisConnection, connectTimeoutMs: number) {
    this.#source = source;
    this.#connectTimeoutMs = connectTimeoutMs;
  }

  /** Tails currently holding the connection. */
  get users(): number {
    return this.#users;
  }

  /** Connections opened so far (a reconnect after a permanent failure opens another). */
  get opened(): number {
    return this.#opened;
  }

  retain(): void {
    this.#users++;
  }

  /** The last user gone, the connection is closed. */
  release(): void {
    if (--this.#users === 0) this.close();
  }

  /** The connection if it is open now, else undefined (then `get` opens or waits for it). */
  get current(): RedisConnection | undefined {
    return this.#open;
  }

  /** The connection, opened if need be; rejects with StoreUnavailableError when it cannot be opened. */
  get(signal: AbortSignal): Promise<RedisConnection> {
    this.#opening ??= this.#connect();
    return raceAbort(this.#opening.connection, signal);
  }

  /** Forgets `connection` when it is closed for good, so that the next `get` opens a new one. */
  discard(connection: RedisConnection): void {
    if (connection.isOpen || this.#opening === undefined) return;
    const current = this.#opening;
    current.connection.then((open) => {
      if (open === connection && this.#opening === current) this.close();
    }, noop);
  }

  /** Closes the connection (or the attempt to open it) now. */
  close(): void {
    const current = this.#opening;
    if (current === undefined) return;
    this.#opening = undefined;
    this.#open = undefined;
    current.abort.abort(new StoreUnavailableError('The blocking connection was closed'));
    current.connection.then((connection) => connection.destroy(), noop);
  }

  #connect(): { connection: Promise<RedisConnection>; abort: AbortController } {
    const abort = new AbortController();
    const timer = setTimeout(
      () =>
        abort.abort(
          new StoreUnavailableError(
            `Could not open the blocking Redis connection within ${this.#connectTimeoutMs} ms`,
          ),
        ),
      this.#connectTimeoutMs,
    );
    const opening = {
      abort,
      connection: this.#source.duplicate(abort.signal).then(
        (connection) => {
          clearTimeout(timer);
          this.#opened++;
          if (this.#opening === opening) this.#open = connection;
          return connection;
        },
        (error: unknown) => {
          clearTimeout(timer);
          if (this.#opening === opening) this.#opening = undefined; // the next get() tries again
          throw unavailable(error, 'connect');
        },
      ),
    };
    opening.connection.catch(noop); // handled by whoever awaits get(); never unhandled
    return opening;
  }
}

function noop(): void {}
