import { InvalidOptionError } from '../../errors.js';
import {
  checkBucketOptions,
  type OnLimit,
  RATE_LIMIT_DEFAULTS,
  type RateLimiterStats,
} from '../../limit/rate-limiter.js';
import { positiveInteger } from '../../option-checks.js';
import { isNodeRedisClient, type NodeRedisClientLike, nodeRedisClient } from '../client/node-redis-client.js';
import { RedisCalls } from '../client/redis-calls.js';
import type { RedisConnection } from '../client/redis-connection.js';
import { encodeStreamName, prefixProblem } from '../store/redis-keys.js';
import { TOKEN_BUCKET } from './token-bucket-script.js';

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
  /** How long a Redis call may take before it fails with StoreUnavailableError. @default 2000 */
  commandTimeoutMs?: number;
}

const TOP_KEYS = 10;

/**
 * A token bucket per key kept in Redis and updated by one Lua script per take, so every
 * process using the same Redis and prefix shares one budget per key. Same shape as
 * `RateLimiter`, but `tryTake` is asynchronous (a round trip); pass it as the bus's
 * `rateLimit`. Stats are this process's view (what it was allowed and refused).
 */
export class RedisRateLimiter {
  readonly rate: number;
  readonly intervalMs: number;
  readonly burst: number;
  readonly onLimit: OnLimit;
  readonly #connection: RedisConnection;
  readonly #calls: RedisCalls;
  readonly #base: string;
  readonly #tokensPerMs: number;
  readonly #counts = new Map<string, { allowed: number; limited: number }>();
  #allowed = 0;
  #limited = 0;

  constructor(options: RedisRateLimiterOptions) {
    const prefix = options.prefix ?? 'busline';
    const problem = prefixProblem(prefix);
    if (problem) throw new InvalidOptionError(problem);
    ({
      rate: this.rate,
      intervalMs: this.intervalMs,
      burst: this.burst,
      onLimit: this.onLimit,
    } = checkBucketOptions(options));
    this.#connection = isNodeRedisClient(options.client) ? nodeRedisClient(options.client) : options.client;
    this.#calls = new RedisCalls(positiveInteger('commandTimeoutMs', options.commandTimeoutMs, 2000));
    this.#base = `{${prefix}}:rl:`;
    this.#tokensPerMs = this.rate / this.intervalMs;
  }

  /** Takes `n` tokens from `key`'s shared bucket if it has them now. Rejects with StoreUnavailableError if Redis does not answer. */
  async tryTake(key: string, n = 1): Promise<boolean> {
    return (await this.#step(key, n)).allowed;
  }

  /** Waits (re-trying when the script says tokens will be there) until `n` tokens are taken; abortable. */
  async take(key: string, n = 1, signal?: AbortSignal): Promise<void> {
    for (;;) {
      if (signal?.aborted) throw signal.reason;
      const { allowed, waitMs } = await this.#step(key, n);
      if (allowed) return;
      await sleep(Math.max(1, waitMs), signal);
    }
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
      evictedActive: 0,
      busiest,
    };
  }

  async #step(key: string, n: number): Promise<{ allowed: boolean; waitMs: number }> {
    if (!(n > 0) || n > this.burst) {
      throw new InvalidOptionError(`Expected n to be > 0 and ≤ burst (${this.burst}), got ${String(n)}`);
    }
    const reply = await this.#calls.script(
      this.#connection,
      TOKEN_BUCKET,
      [this.#base + encodeStreamName(key)],
      [String(this.#tokensPerMs), String(this.burst), String(n)],
    );
    const [allowed, waitMs] = reply as [number, number];
    this.#count(key, allowed === 1, n);
    return { allowed: allowed === 1, waitMs: Number(waitMs) };
  }

  #count(key: string, allowed: boolean, n: number): void {
    let counts = this.#counts.get(key);
    if (counts === undefined) {
      // This process's view only, and bounded like the in-memory limiter's keys.
      if (this.#counts.size >= RATE_LIMIT_DEFAULTS.maxKeys) this.#counts.clear();
      counts = { allowed: 0, limited: 0 };
      this.#counts.set(key, counts);
    }
    if (allowed) {
      counts.allowed += n;
      this.#allowed += n;
    } else {
      counts.limited += n;
      this.#limited += n;
    }
  }
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
