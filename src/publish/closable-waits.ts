/**
 * The signals of waits that must end on their caller's signal and when the bus closes. A
 * listener per wait on one long-lived "closing" signal would trip Node's MaxListeners warning
 * with a dozen waiting publishes; instead each wait gets a controller of its own, kept in a set
 * that `close()` aborts in one pass, and removed (with its listener on the caller's signal)
 * by `dispose()` when the wait ends.
 */
export class ClosableWaits {
  readonly #open = new Set<AbortController>();
  #closed: { reason: unknown } | undefined;

  /** A signal for one wait; call `dispose()` once the wait is over, however it ended. */
  start(signal: AbortSignal | undefined): { signal: AbortSignal; dispose(): void } {
    if (this.#closed !== undefined) return { signal: AbortSignal.abort(this.#closed.reason), dispose: noop };
    if (signal?.aborted) return { signal, dispose: noop };
    const controller = new AbortController();
    const onAbort = (): void => controller.abort(signal!.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    this.#open.add(controller);
    return {
      signal: controller.signal,
      dispose: () => {
        signal?.removeEventListener?.('abort', onAbort);
        this.#open.delete(controller);
      },
    };
  }

  /** Ends every wait under way, and any started later, with `reason`. */
  close(reason: unknown): void {
    this.#closed ??= { reason };
    for (const controller of this.#open) controller.abort(reason);
    this.#open.clear();
  }

  /** Waits under way (for tests). */
  get size(): number {
    return this.#open.size;
  }
}

function noop(): void {}
