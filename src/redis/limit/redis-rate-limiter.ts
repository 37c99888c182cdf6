import { InvalidOptionError, RateLimitedError } from '../../errors.js';
import { describe } from '../../event.js';
import {
  checkBucketOptions,
  type OnLimit,
  RATE_LIMIT_DEFAULTS,
  type RateLimiterLike,
  type RateLimiterStats,
} from '../../limit/rate-limiter.js';
import { checkSignal, positiveInteger } from '../../option-checks.js';
import { toRedisConnection } from '../client/client-connection.js';
import type { NodeRedisClientLike } from '../client/node-redis-client.js';
import { RedisCalls } from '../client/redis-calls.js';
import type { RedisConnection, RedisReply } from '../client/redis-connection.js';
import { encodeStreamName, prefixProblem } from '../store/redis-keys.js';
import { TakeQueue, type Waiter } from './take-queue.js';
import { TOKEN_BUCKET, TOKEN_BUCKET_GIVE_BACK } from './token-bucket-script.js';

export interface RedisRateLimiterOptions {
  /** A connected node-redis client, or a RedisConnection (`ioredisClient(redis)` for ioredis). */
  client: NodeRedisClientLike | RedisConnection;
  /** Key prefix; buckets live under `{prefix}:rl:`. @default 'busline' */
  prefix?: string;
  rate: number;
  /** @default 1000 */
  intervalMs?: number;
  /** @default rate */
  burst?: number;
  /** @default 'drop' */
  onLimit?: OnLimit;
  /**
   * `take` calls of this process that may wait at once, over all keys (as `RateLimiter`'s).
   * One more rejects at once with `RateLimitedError`. @default 1000
   */
  maxWaiting?: number;
  /** How long a Redis call may take before it fails with StoreUnavailableError. @default 2000 */
  commandTimeoutMs?: number;
}

const TOP_KEYS = 10;

/**
 * A token bucket per key kept in Redis and updated by one Lua script per call, so every
 * process using the same Redis and prefix shares one budget per key. Same shape as
 * `RateLimiter`, but `tryTake` is asynchronous (a round trip); pass it as the bus's
 * `rateLimit`. `take` waiters of one key are served in arrival order within this process
 * (see `TakeQueue`); processes compete for the bucket through Redis. Stats are this
 * process's view (what it was allowed and refused).
 */
export class RedisRateLimiter implements RateLimiterLike {
  readonly rate: number;
  readonly intervalMs: number;
  readonly burst: number;
  readonly onLimit: OnLimit;
  readonly #connection: RedisConnection;
  readonly #calls: RedisCalls;
  readonly #base: string;
  readonly #tokensPerMs: number;
  readonly #maxWaiting: number;
  readonly #counts = new Map<string, { allowed: number; limited: number }>();
  readonly #queues = new Map<string, TakeQueue>();
  #allowed = 0;
  #limited = 0;
  /** `take` calls in state `waiting` over all keys; with `#queued`, held under `#maxWaiting`. */
  #waiting = 0;
  /** `take` calls in state `queued` (behind a first call under way). */
  #queued = 0;
  #waitsRefused = 0;

  constructor(options: RedisRateLimiterOptions) {
    // First: it also checks that `options` is an object.
    ({
      rate: this.rate,
      intervalMs: this.intervalMs,
      burst: this.burst,
      onLimit: this.onLimit,
    } = checkBucketOptions(options));
    const prefix = options.prefix ?? 'busline';
    const problem = prefixProblem(prefix);
    if (problem) throw new InvalidOptionError(problem);
    this.#maxWaiting = positiveInteger('maxWaiting', options.maxWaiting, RATE_LIMIT_DEFAULTS.maxWaiting);
    this.#connection = toRedisConnection(options.client);
    this.#calls = new RedisCalls(positiveInteger('commandTimeoutMs', options.commandTimeoutMs, 2000));
    this.#base = `{${prefix}}:rl:`;
    this.#tokensPerMs = this.rate / this.intervalMs;
  }

  /**
   * Takes `n` tokens from `key`'s shared bucket if it has them now. False at once, without a
   * round trip, while takes of this process are in line for `key` (nobody jumps their queue).
   * Rejects with StoreUnavailableError if Redis does not answer.
   */
  async tryTake(key: string, n = 1): Promise<boolean> {
    this.#checkCount(n, key);
    if ((this.#queues.get(key)?.waiters.length ?? 0) === 0) {
      const { served } = await this.#takeInOrder(key, [n]);
      if (served === 1) {
        this.#count(key, 'allowed', n);
        return true;
      }
    }
    this.#count(key, 'limited', n);
    return false;
  }

  /**
   * Waits until `n` tokens are taken from `key`'s shared bucket; first come first served
   * among this process's takes of `key`. Rejects with the abort reason as soon as `signal`
   * aborts (the take leaves the queue then; tokens a call in flight took for it go to the
   * next waiter or back to the bucket), with `RateLimitedError` at once when it would wait
   * and `maxWaiting` takes already do, and with StoreUnavailableError if Redis fails.
   */
  take(key: string, n = 1, signal?: AbortSignal): Promise<void> {
    try {
      this.#checkCount(n, key);
      checkSignal(signal);
    } catch (error) {
      return Promise.reject(error);
    }
    if (signal?.aborted) return Promise.reject(signal.reason);
    const queue = this.#queue(key);
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => queue.settle(waiter, false, signal!.reason);
      const waiter: Waiter = {
        n,
        state: 'first',
        done: false,
        finish: (served, error) => {
          signal?.removeEventListener('abort', onAbort);
          if (served) resolve();
          else reject(error);
        },
      };
      const refusal = queue.add(waiter);
      if (refusal !== undefined) {
        waiter.done = true;
        reject(refusal);
        return;
      }
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  stats(): RateLimiterStats {
    const busiest = [...this.#counts]
      .sort((a, b) => b[1].allowed + b[1].limited - (a[1].allowed + a[1].limited))
      .slice(0, TOP_KEYS)
      .map(([key, c]) => ({ key, allowed: c.allowed, limited: c.limited, tokens: Number.NaN }));
    return {
      keys: this.#counts.size,
      allowed: this.#allowed,
      limited: this.#limited,
      keysRefused: 0,
      busiest,
      waiting: this.#waiting,
      waitsRefused: this.#waitsRefused,
    };
  }

  #queue(key: string): TakeQueue {
    let queue = this.#queues.get(key);
    if (queue !== undefined) return queue;
    const created = new TakeQueue({
      burst: this.burst,
      tokensPerMs: this.#tokensPerMs,
      takeInOrder: (counts) => this.#takeInOrder(key, counts),
      giveBack: (n) => this.#giveBack(key, n),
      granted: (waiter) => this.#count(key, 'allowed', waiter.n),
      admit: (waiter, state) => this.#admit(key, waiter, state),
      settled: (waiter) => {
        if (waiter.state === 'waiting') this.#waiting--;
        else if (waiter.state === 'queued') this.#queued--;
      },
      drained: () => {
        if (created.waiters.length === 0) this.#queues.delete(key);
      },
    });
    queue = created;
    this.#queues.set(key, queue);
    return queue;
  }

  /**
   * Counts `waiter` as queued or waiting, within `maxWaiting` (a queued take was admitted
   * under it already). As in the in-memory limiter, `limited` counts `tryTake` refusals only
   * (the bus calls `tryTake` before it waits with `take`, so an event is counted once);
   * waits show in `waiting` and refused waits in `waitsRefused`.
   */
  #admit(key: string, waiter: Waiter, state: 'queued' | 'waiting'): Error | undefined {
    if (waiter.state === 'queued') this.#queued--;
    else if (this.#waiting + this.#queued >= this.#maxWaiting) {
      this.#waitsRefused++;
      return new RateLimitedError(
        `Rate limit of ${this.rate} per ${this.intervalMs} ms reached for key "${key}", and ${this.#maxWaiting} takes already wait on this limiter (maxWaiting: ${this.#maxWaiting})`,
      );
    }
    waiter.state = state;
    if (state === 'queued') this.#queued++;
    else this.#waiting++;
    return undefined;
  }

  // No abort signal on the calls: an aborted take leaves its queue at once, but the reply of a
  // call in flight for it is still read, so tokens it took are handed on rather than lost.
  async #takeInOrder(key: string, counts: number[]): Promise<{ served: number; left: number }> {
    const reply = await this.#calls.script(
      this.#connection,
      TOKEN_BUCKET,
      [this.#base + encodeStreamName(key)],
      [String(this.#tokensPerMs), String(this.burst), ...counts.map(String)],
    );
    const [served, , left] = reply as [number, number, RedisReply];
    return { served: Number(served), left: tokensLeft(left) };
  }

  async #giveBack(key: string, n: number): Promise<number> {
    const reply = await this.#calls.script(
      this.#connection,
      TOKEN_BUCKET_GIVE_BACK,
      [this.#base + encodeStreamName(key)],
      [String(this.#tokensPerMs), String(this.burst), String(n)],
    );
    return tokensLeft(reply);
  }

  #checkCount(n: number, key: string): void {
    // The key becomes part of a Redis key (encodeStreamName would throw a TypeError on a non-string).
    if (typeof key !== 'string')
      throw new InvalidOptionError(`Expected \`key\` to be a string, got ${describe(key)}`);
    if (typeof n !== 'number' || !(n > 0) || n > this.burst) {
      throw new InvalidOptionError(`Expected n to be > 0 and ≤ burst (${this.burst}), got ${describe(n)}`);
    }
  }

  #count(key: string, outcome: 'allowed' | 'limited', n: number): void {
    let counts = this.#counts.get(key);
    if (counts === undefined) {
      // This process's view only, and bounded like the in-memory limiter's keys.
      if (this.#counts.size >= RATE_LIMIT_DEFAULTS.maxKeys) this.#counts.clear();
      counts = { allowed: 0, limited: 0 };
      this.#counts.set(key, counts);
    }
    counts[outcome] += n;
    if (outcome === 'allowed') this.#allowed += n;
    else this.#limited += n;
  }
}

/** The script's token count (a string); 0 if unreadable, so the loop sleeps rather than spins. */
function tokensLeft(reply: RedisReply | undefined): number {
  const tokens = Number(reply);
  return Number.isFinite(tokens) ? tokens : 0;
}
