/** One key's budget: continuous refill, capped at `burst`. */
export class TokenBucket {
  tokens: number;
  updatedAt: number;
  allowed = 0;
  limited = 0;
  /** `take` callers waiting for tokens, served first-come first-served. */
  waiters: { n: number; resolve(): void; reject(error: unknown): void; cleanup(): void }[] = [];
  /** The one timer that serves the head waiter, if any. */
  timer: ReturnType<typeof setTimeout> | undefined;

  constructor(burst: number, now: number) {
    this.tokens = burst;
    this.updatedAt = now;
  }

  /** Adds the tokens earned since the last update. A clock that stepped back earns nothing. */
  refill(now: number, tokensPerMs: number, burst: number): void {
    if (now <= this.updatedAt) return;
    this.tokens = Math.min(burst, this.tokens + (now - this.updatedAt) * tokensPerMs);
    this.updatedAt = now;
  }

  /** Milliseconds until `n` tokens are available. */
  waitFor(n: number, tokensPerMs: number): number {
    return n <= this.tokens ? 0 : Math.ceil((n - this.tokens) / tokensPerMs);
  }
}
