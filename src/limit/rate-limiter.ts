import { InvalidOptionError, RateLimitedError } from '../errors.js';
import { describe } from '../event.js';
import { checkSignal, checkTime, optionalFunction, positiveInteger } from '../option-checks.js';
import { TokenBucket } from './token-bucket.js';

export type OnLimit = 'drop' | 'delay' | 'throw';

export interface RateLimiterOptions {
  /** Tokens added per `intervalMs` (e.g. 1000 events per second). */
  rate: number;
  /** @default 1000 */
  intervalMs?: number;
  /** Bucket capacity: how many can go at once after a quiet period. @default rate */
  burst?: number;
  /** What the bus does with a limited event: drop it (`status: 'rate_limited'`), wait, or throw `RateLimitedError`. @default 'drop' */
  onLimit?: OnLimit;
  /** Keys tracked at most; idle keys go first. @default 10000 */
  maxKeys?: number;
  /**
   * `take` calls that may wait at once, over all keys (with `onLimit: 'delay'`, one per
   * publish held back). One more rejects at once with `RateLimitedError`. Each waiting take
   * holds its caller (in the bus: the event, up to `maxEventBytes`) in memory, so this bounds
   * that memory; 1000 waiting 64 KiB events are 64 MiB at worst.
   * @default 1000
   */
  maxWaiting?: number;
  /** @default Date.now */
  clock?: () => number;
}

export interface RateLimiterStats {
  keys: number;
  allowed: number;
  limited: number;
  /**
   * Takes refused because `maxKeys` buckets were in use, none of them full: a bucket that is not
   * full is never dropped (its key would get its budget back), so a new key waits its turn.
   */
  keysRefused: number;
  /** The busiest keys (most tokens taken or refused), busiest first. */
  busiest: { key: string; allowed: number; limited: number; tokens: number }[];
  /** `take` calls waiting now. */
  waiting?: number;
  /** `take` calls refused at once because `maxWaiting` takes were already waiting. */
  waitsRefused?: number;
}

/**
 * What the bus needs of a rate limiter: `RateLimiter` (in this process) and
 * `RedisRateLimiter` (one budget shared by processes, from `busline/redis`) both fit.
 */
export interface RateLimiterLike {
  readonly rate: number;
  readonly intervalMs: number;
  readonly onLimit: OnLimit;
  tryTake(key: string, n?: number): boolean | Promise<boolean>;
  take(key: string, n?: number, signal?: AbortSignal): Promise<void>;
  stats(): RateLimiterStats;
}

export const RATE_LIMIT_DEFAULTS = {
  intervalMs: 1000,
  onLimit: 'drop',
  maxKeys: 10_000,
  maxWaiting: 1000,
} as const;

/** setTimeout fires at once past this (about 24.8 days): longer waits are armed in steps. */
const MAX_TIMER_MS = 2_147_483_647;

/** Validates and completes the options every token-bucket limiter shares (in memory and on Redis). */
export function checkBucketOptions(
  options: Pick<RateLimiterOptions, 'rate' | 'intervalMs' | 'burst' | 'onLimit'>,
): { rate: number; intervalMs: number; burst: number; onLimit: OnLimit } {
  if (options === null || typeof options !== 'object') {
    throw new InvalidOptionError('Expected rate limiter options, e.g. { rate: 1000, intervalMs: 1000 }');
  }
  const { rate } = options;
  if (typeof rate !== 'number' || !(rate > 0) || !Number.isFinite(rate)) {
    throw new InvalidOptionError(`Expected \`rate\` to be a positive number, got ${describe(rate)}`);
  }
  const intervalMs = positiveInteger('intervalMs', options.intervalMs, RATE_LIMIT_DEFAULTS.intervalMs);
  const burst = options.burst ?? Math.max(1, rate);
  if (typeof burst !== 'number' || !(burst >= 1) || !Number.isFinite(burst)) {
    throw new InvalidOptionError(`Expected \`burst\` to be a number ≥ 1, got ${describe(options.burst)}`);
  }
  const onLimit = options.onLimit ?? RATE_LIMIT_DEFAULTS.onLimit;
  if (!['drop', 'delay', 'throw'].includes(onLimit)) {
    throw new InvalidOptionError(
      `Expected \`onLimit\` to be 'drop', 'delay' or 'throw', got ${describe(onLimit)}`,
    );
  }
  return { rate, intervalMs, burst, onLimit };
}

/**
 * A token bucket per key (stream, tenant, API key…), refilled continuously from the clock.
 * Memory is bounded: a bucket that has refilled to full is indistinguishable from a new
 * one, so idle keys are swept. A bucket that is not full is never dropped: were it dropped, a
 * flood of new keys would give an exhausted key its budget back. Past `maxKeys` non-full
 * buckets, a new key is refused (`keysRefused`) until one of them refills.
 */
export class RateLimiter implements RateLimiterLike {
  readonly rate: number;
  readonly intervalMs: number;
  readonly burst: number;
  readonly onLimit: OnLimit;
  readonly #tokensPerMs: number;
  readonly #maxKeys: number;
  readonly #maxWaiting: number;
  readonly #clock: () => number;
  readonly #buckets = new Map<string, TokenBucket>();
  #opsSinceSweep = 0;
  #allowed = 0;
  #limited = 0;
  #keysRefused = 0;
  /** No sweep before this time: the last one found every bucket in use (see #bucket). */
  #noSweepUntil = Number.NEGATIVE_INFINITY;
  /** Waiting `take` calls over all buckets, held under `#maxWaiting`. */
  #waiting = 0;
  #waitsRefused = 0;

  constructor(options: RateLimiterOptions) {
    ({
      rate: this.rate,
      intervalMs: this.intervalMs,
      burst: this.burst,
      onLimit: this.onLimit,
    } = checkBucketOptions(options));
    this.#maxKeys = positiveInteger('maxKeys', options.maxKeys, RATE_LIMIT_DEFAULTS.maxKeys);
    this.#maxWaiting = positiveInteger('maxWaiting', options.maxWaiting, RATE_LIMIT_DEFAULTS.maxWaiting);
    this.#clock = optionalFunction('clock', options.clock) ?? Date.now;
    this.#tokensPerMs = this.rate / this.intervalMs;
  }

  /**
   * Takes `n` tokens from `key`'s bucket if it has them now; never waits.
   * @param now the time on this limiter's clock, when the caller has just read it (saves a read)
   */
  tryTake(key: string, n = 1, now: number = this.#clock()): boolean {
    this.#checkCount(n);
    checkTime('now', now);
    const refused = this.#takeNow(key, n, now);
    if (refused === undefined) return true;
    if (refused === 'no-room') this.#keysRefused++;
    else refused.limited += n;
    this.#limited += n;
    return false;
  }

  /**
   * Waits until `n` tokens can be taken from `key`'s bucket, first come first served per key
   * (a later take, or `tryTake`, never goes before a waiting one).
   * Rejects with the abort reason if `signal` aborts first (taking nothing, and leaving the
   * queue at once), and with `RateLimitedError` at once if `maxWaiting` takes already wait.
   */
  take(key: string, n = 1, signal?: AbortSignal): Promise<void> {
    this.#checkCount(n);
    checkSignal(signal);
    if (signal?.aborted) return Promise.reject(signal.reason);
    const bucket = this.#takeNow(key, n, this.#clock());
    if (bucket === undefined) return Promise.resolve();
    if (bucket === 'no-room') {
      this.#keysRefused++;
      return Promise.reject(
        new RateLimitedError(
          `Rate limit: ${this.#maxKeys} keys are in use, none with a full budget (maxKeys: ${this.#maxKeys}); key "${key}" must wait until one refills`,
        ),
      );
    }
    if (this.#waiting >= this.#maxWaiting) {
      this.#waitsRefused++;
      return Promise.reject(
        new RateLimitedError(
          `Rate limit of ${this.rate} per ${this.intervalMs} ms reached for key "${key}", and ${this.#maxWaiting} takes already wait on this limiter (maxWaiting: ${this.#maxWaiting})`,
        ),
      );
    }
    return new Promise<void>((resolve, reject) => {
      const waiter = {
        n,
        resolve,
        reject,
        cleanup: () => signal?.removeEventListener('abort', onAbort),
      };
      const onAbort = (): void => {
        const index = bucket.waiters.indexOf(waiter);
        if (index < 0) return;
        bucket.waiters.splice(index, 1);
        this.#waiting--;
        waiter.cleanup();
        reject(signal!.reason);
        // The head's timer is the bucket's timer: re-arm it for the next head (or clear it).
        if (index === 0) this.#schedule(bucket);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      bucket.waiters.push(waiter);
      this.#waiting++;
      if (bucket.waiters.length === 1) this.#schedule(bucket);
    });
  }

  stats(top = 10): RateLimiterStats {
    if (typeof top !== 'number')
      throw new InvalidOptionError(`Expected \`top\` to be a number of keys, got ${describe(top)}`);
    const busiest = [...this.#buckets]
      .sort((a, b) => b[1].allowed + b[1].limited - (a[1].allowed + a[1].limited))
      .slice(0, top)
      .map(([key, b]) => ({ key, allowed: b.allowed, limited: b.limited, tokens: b.tokens }));
    return {
      keys: this.#buckets.size,
      allowed: this.#allowed,
      limited: this.#limited,
      keysRefused: this.#keysRefused,
      busiest,
      waiting: this.#waiting,
      waitsRefused: this.#waitsRefused,
    };
  }

  /**
   * Refills `key`'s bucket and takes `n` tokens if they are there and no queued `take` is
   * ahead (queued callers came first: nobody jumps the queue). Returns the bucket when it
   * could not take, undefined when it did.
   */
  #takeNow(key: string, n: number, now: number): TokenBucket | 'no-room' | undefined {
    const bucket = this.#bucket(key, now);
    if (bucket === undefined) return 'no-room';
    bucket.refill(now, this.#tokensPerMs, this.burst);
    if (bucket.waiters.length > 0 || bucket.tokens < n) return bucket;
    bucket.tokens -= n;
    bucket.allowed += n;
    this.#allowed += n;
    return undefined;
  }

  #checkCount(n: number): void {
    if (typeof n !== 'number' || !(n > 0) || n > this.burst) {
      throw new InvalidOptionError(`Expected n to be > 0 and ≤ burst (${this.burst}), got ${describe(n)}`);
    }
  }

  /** Serves the head waiter (and those behind it) when enough tokens have accrued. */
  #schedule(bucket: TokenBucket): void {
    clearTimeout(bucket.timer);
    bucket.timer = undefined;
    const head = bucket.waiters[0];
    if (!head) return;
    const now = this.#clock();
    bucket.refill(now, this.#tokensPerMs, this.burst);
    const delay = Math.min(bucket.waitFor(head.n, this.#tokensPerMs), MAX_TIMER_MS);
    bucket.timer = setTimeout(() => {
      const at = this.#clock();
      bucket.refill(at, this.#tokensPerMs, this.burst);
      while (bucket.waiters.length > 0 && bucket.tokens >= bucket.waiters[0]!.n) {
        const waiter = bucket.waiters.shift()!;
        this.#waiting--;
        bucket.tokens -= waiter.n;
        bucket.allowed += waiter.n;
        this.#allowed += waiter.n;
        waiter.cleanup();
        waiter.resolve();
      }
      this.#schedule(bucket);
    }, delay);
  }

  /** `key`'s bucket, made if there is room; undefined when `maxKeys` buckets are in use. */
  #bucket(key: string, now: number): TokenBucket | undefined {
    let bucket = this.#buckets.get(key);
    if (bucket !== undefined) return bucket;
    if (++this.#opsSinceSweep >= this.#maxKeys || this.#buckets.size >= this.#maxKeys) this.#sweep(now);
    if (this.#buckets.size >= this.#maxKeys) return undefined;
    bucket = new TokenBucket(this.burst, now);
    this.#buckets.set(key, bucket);
    return bucket;
  }

  /**
   * Drops the buckets that refilled to full (the same as no bucket). When that frees nothing,
   * the next sweep waits until a bucket emptied now could have refilled: a flood of new keys
   * must not buy a full scan each.
   */
  #sweep(now: number): void {
    if (now < this.#noSweepUntil) return;
    this.#opsSinceSweep = 0;
    for (const [key, bucket] of this.#buckets) {
      bucket.refill(now, this.#tokensPerMs, this.burst);
      if (bucket.tokens >= this.burst && bucket.waiters.length === 0) this.#buckets.delete(key);
    }
    this.#noSweepUntil =
      this.#buckets.size >= this.#maxKeys
        ? now + Math.min(Math.ceil(this.burst / this.#tokensPerMs), this.intervalMs)
        : Number.NEGATIVE_INFINITY;
  }
}
