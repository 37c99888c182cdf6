/**
 * Calls `onIdle` once a wait for the server has lasted `idleMs` (0: never). A connection can die
 * without a word (a half-open TCP connection after a NAT or proxy dropped it, a server that
 * hangs): no error and no end ever come, and the reader would wait forever. A busline server
 * sends a heartbeat comment at least every `heartbeatMs` (15 s by default), so silence well
 * past that means the connection is gone.
 *
 * Only waiting counts: it starts waiting when made (for the response) and at each `waiting()`
 * (a read), and stops at `received()`; the time the caller spends on an event in between is
 * not silence. The one timer checks the state when it fires (no timer reset per chunk).
 */
export class IdleWatchdog {
  readonly #idleMs: number;
  readonly #onIdle: () => void;
  #since = Date.now();
  #isWaiting = true;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(idleMs: number, onIdle: () => void) {
    this.#idleMs = idleMs;
    this.#onIdle = onIdle;
    if (idleMs > 0) this.#arm(idleMs);
  }

  /** A wait for the server starts. */
  waiting(): void {
    this.#since = Date.now();
    this.#isWaiting = true;
  }

  /** The server answered (a chunk): not waiting until the next `waiting()`. */
  received(): void {
    this.#isWaiting = false;
  }

  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #arm(delayMs: number): void {
    this.#timer = setTimeout(() => {
      if (!this.#isWaiting) return this.#arm(this.#idleMs);
      const waited = Date.now() - this.#since;
      if (waited < this.#idleMs) return this.#arm(this.#idleMs - waited);
      this.#timer = undefined;
      this.#onIdle();
    }, delayMs);
  }
}
