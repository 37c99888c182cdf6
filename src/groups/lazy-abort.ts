/**
 * An abort whose AbortSignal is only made when someone asks for it. Each group delivery has
 * one (its handler's `context.signal`), and most handlers never read it: an AbortController and
 * its signal cost about a tenth of a consumer's CPU per event at concurrency 32. A signal asked
 * for after the abort comes out already aborted, with the same reason.
 */
export class LazyAbort {
  #controller: AbortController | undefined;
  #aborted = false;
  #reason: unknown;

  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#aborted) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  get aborted(): boolean {
    return this.#aborted;
  }

  get reason(): unknown {
    return this.#reason;
  }

  /** The first call counts; later ones are ignored, as with AbortController. */
  abort(reason: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason;
    this.#controller?.abort(reason);
  }
}
