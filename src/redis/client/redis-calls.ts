import { BuslineError, StoreUnavailableError } from '../../errors.js';
import type { LuaScript } from '../store/lua-scripts.js';
import { CommandNotSentError, type RedisConnection, type RedisReply } from './redis-connection.js';
import { whenAborted } from './shared-abort.js';

export interface CallOptions {
  /** Ends the wait early; the call then rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Overrides the default timeout (blocking reads wait longer). */
  timeoutMs?: number;
}

/**
 * Sends commands with a deadline and typed failures: whatever goes wrong (a connection error,
 * an error reply, no answer within the timeout) rejects with `StoreUnavailableError`, whose
 * `cause` holds the original. Its `mayHaveApplied` tells a command Redis may have run (it was
 * written, then the deadline passed: `true`) from one it never saw (refused or withdrawn before
 * it was written: `false`). Scripts go by EVALSHA, falling back to EVAL on NOSCRIPT.
 */
export class RedisCalls {
  readonly #timeoutMs: number;
  /**
   * Withdrawal controllers a finished call left unused (never aborted, no command still
   * waiting on its signal), for the next calls. On Node 20 an AbortController's signal costs
   * about 2.8 µs to make, and every call (an append, a feed read, a group claim) made one.
   */
  readonly #spare: AbortController[] = [];

  constructor(timeoutMs: number) {
    this.#timeoutMs = timeoutMs;
  }

  /**
   * Sends one command on `connection`. `connection.send` is called synchronously, so two calls
   * made back to back are written in that order (pipelined).
   */
  send(connection: RedisConnection, args: readonly string[], options: CallOptions = {}): Promise<RedisReply> {
    return this.sendAll(connection, [args], options).then((replies) => replies[0]!);
  }

  /**
   * Sends several commands at once (pipelined, in order) under one deadline, one withdrawal
   * signal and one abort listener, rather than one of each per command: the live feed sends two
   * per read, on every read. Resolves with the replies in order; rejects like `send` when any fails.
   */
  sendAll(
    connection: RedisConnection,
    commands: readonly (readonly string[])[],
    options: CallOptions = {},
  ): Promise<RedisReply[]> {
    const timeoutMs = options.timeoutMs ?? this.#timeoutMs;
    const external = options.signal;
    if (external?.aborted) return Promise.reject(external.reason);
    const withdraw = this.#spare.pop() ?? new AbortController();
    let settled = 0;
    // Once every command has settled, nothing listens to the signal any more (a connection
    // drops its listener when it writes or fails the command): unless aborted, it can serve again.
    const release = (): void => {
      if (++settled === commands.length && !withdraw.signal.aborted && this.#spare.length < SPARE_CONTROLLERS)
        this.#spare.push(withdraw);
    };
    // For error messages only: built when one is needed, not on every call.
    const names = (): string => commands.map((args) => args[0]!).join('+');
    return new Promise<RedisReply[]>((resolve, reject) => {
      const finish = (): void => {
        clearTimeout(timer);
        stopWaiting?.();
      };
      const onAbort = (): void => {
        finish();
        withdraw.abort(external!.reason);
        reject(external!.reason);
      };
      const stopWaiting = external === undefined ? undefined : whenAborted(external, onAbort);
      let timedOut = false;
      let unsent = 0;
      const timer = setTimeout(() => {
        timedOut = true;
        finish();
        withdraw.abort();
        // A connection that withdraws a command it had not written yet rejects it with
        // CommandNotSentError before the next macrotask (node-redis: at once); then Redis never
        // saw it. One that was written may still run: Redis answers it later, to nobody.
        setTimeout(() => {
          const withdrawn = unsent === commands.length;
          const outcome = withdrawn ? 'it was withdrawn unsent' : 'it was sent, so Redis may still run it';
          reject(
            new StoreUnavailableError(
              `Redis did not answer ${names()} within ${timeoutMs} ms (RedisEventStore commandTimeoutMs); ${outcome}`,
              { mayHaveApplied: !withdrawn },
            ),
          );
        }, 0);
      }, timeoutMs);
      const sent = commands.map((args) => {
        let reply: Promise<RedisReply>;
        try {
          reply = connection.send(args, { signal: withdraw.signal, timeoutMs });
        } catch (error) {
          reply = Promise.reject(error);
        }
        reply.then(release, (error: unknown) => {
          if (error instanceof CommandNotSentError) unsent++;
          release();
        });
        return reply;
      });
      Promise.all(sent).then(
        (replies) => {
          finish();
          resolve(replies);
        },
        (error: unknown) => {
          if (timedOut) return; // the timer reports it, knowing whether it was sent
          finish();
          reject(unavailable(error, names()));
        },
      );
    });
  }

  /** Runs a Lua script: EVALSHA, then EVAL (which also caches it) if Redis does not know the SHA. */
  async script(
    connection: RedisConnection,
    script: LuaScript,
    keys: readonly string[],
    args: readonly string[],
    options?: CallOptions,
  ): Promise<RedisReply> {
    // concat, not spreads into a literal: an append passes 3,000+ arguments, and V8 copies a
    // spread next to other elements one by one (about 10× slower than concat's block copy).
    const tail = [String(keys.length)].concat(keys, args);
    try {
      return await this.send(connection, ['EVALSHA', script.sha].concat(tail), options);
    } catch (error) {
      if (!isNoScript(error)) throw error;
      return await this.send(connection, ['EVAL', script.source].concat(tail), options);
    }
  }
}

/** Spare withdrawal controllers kept at most: about as many calls as are in flight at once. */
const SPARE_CONTROLLERS = 16;

function isNoScript(error: unknown): boolean {
  const cause = error instanceof StoreUnavailableError ? error.cause : error;
  return cause instanceof Error && cause.message.startsWith('NOSCRIPT');
}

/** Wraps anything but a busline error into StoreUnavailableError, keeping the original as `cause`. */
export function unavailable(error: unknown, command: string): Error {
  if (error instanceof BuslineError) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof CommandNotSentError) {
    return new StoreUnavailableError(`Redis ${command} was not sent: ${message}`, {
      cause: error,
      mayHaveApplied: false,
    });
  }
  return new StoreUnavailableError(`Redis ${command} failed: ${message}`, { cause: error });
}
