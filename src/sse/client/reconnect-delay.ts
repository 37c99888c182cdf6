/** setTimeout's ceiling (2^31 - 1 ms); a longer delay would fire at once. */
const MAX_TIMER_MS = 2_147_483_647;

/**
 * How long `sseEvents` waits before it connects again. The first attempt after a stream that
 * was open waits exactly the reconnection time (the server's `retry:`, else `retryMs`), as an
 * EventSource does. Each further failure in a row (refused, reset, 503) doubles it, up to
 * `maxRetryMs`, and takes a random point in its upper half: a server coming back is not hit
 * by every client at the same instant. An open stream starts the count again.
 */
export class ReconnectDelay {
  readonly #retryMs: number;
  readonly #maxRetryMs: number;
  readonly #minBackoffMs: number;
  readonly #random: () => number;
  #failures = 0;

  /**
   * `retryMs`: the reconnection time when the server sent no `retry:`; `minBackoffMs`: where
   * the doubling starts at least (a `retry: 0` must not turn into a tight loop while the server is down).
   */
  constructor(retryMs: number, maxRetryMs: number, minBackoffMs: number, random: () => number = Math.random) {
    this.#retryMs = retryMs;
    this.#maxRetryMs = maxRetryMs;
    this.#minBackoffMs = minBackoffMs;
    this.#random = random;
  }

  /** A stream was opened: the next wait is the plain reconnection time again. */
  opened(): void {
    this.#failures = 0;
  }

  /** The wait before the next attempt; `serverRetryMs` is the last `retry:` the server sent. */
  next(serverRetryMs: number | undefined): number {
    const base = Math.min(serverRetryMs ?? this.#retryMs, this.#maxRetryMs);
    const failures = this.#failures++;
    if (failures === 0) return base;
    const ceiling = Math.min(
      this.#maxRetryMs,
      Math.max(base, this.#minBackoffMs) * 2 ** Math.min(failures, 30),
    );
    return Math.round(ceiling / 2 + (this.#random() * ceiling) / 2);
  }
}

/**
 * A `Retry-After` header in milliseconds: delay-seconds or an HTTP date; undefined when absent
 * or unreadable (the caller then backs off as for any failure).
 */
export function retryAfterMs(header: string | null, now: number): number | undefined {
  if (header === null) return undefined;
  const value = header.trim();
  if (/^[0-9]+$/.test(value)) return Math.min(Number(value) * 1000, MAX_TIMER_MS);
  // Every HTTP-date form starts with the day's name; Date.parse alone would take `-1` as a year.
  const date = /^[A-Za-z]{3}/.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(date)) return undefined;
  return Math.min(Math.max(0, date - now), MAX_TIMER_MS);
}
