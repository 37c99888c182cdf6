import type { AppendResult } from '../store/event-store.js';

/**
 * A publisher's wait for its own events to come back through the live feed (shared store).
 *
 * It is registered with the feed by event id *before* the append, so the feed can hand it each
 * event as it passes, whichever comes first: the append's reply on one connection or the feed's
 * read on another. Registering first is what lets the feed keep nothing about events nobody
 * waits for (every event of every other process): no cursor → result map to age out, and no
 * per-event timer, only one per publish call.
 *
 * A delivery counts only with the cursor the append returned: an event of the same id that is
 * not this publish's (another process's, stored first) is not mistaken for it.
 */
export class PublishWait {
  /** Event ids this wait is registered under with the feed. */
  readonly ids: readonly string[];
  /** What the feed handed over so far: id → [cursor, subscribers reached]. */
  readonly #seen = new Map<string, [cursor: string, deliveredTo: number]>();
  readonly #forget: (wait: PublishWait) => void;
  /** Set by `settle`: stored events not seen yet, by id → cursor. */
  #missing: Map<string, string> | undefined;
  #done: (() => void) | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #ended = false;

  constructor(ids: readonly string[], forget: (wait: PublishWait) => void) {
    this.ids = ids;
    this.#forget = forget;
  }

  /** Called by the feed for an event whose id this wait is registered under. */
  seen(id: string, cursor: string, deliveredTo: number): void {
    if (this.#ended) return;
    this.#seen.set(id, [cursor, deliveredTo]);
    const missing = this.#missing;
    if (missing !== undefined && missing.get(id) === cursor) {
      missing.delete(id);
      if (missing.size === 0) this.#end();
    }
  }

  /**
   * After the append: resolves once every event it stored (not the duplicates) has come through
   * the feed, or after `timeoutMs`. The map gives subscribers reached per id; an event missing
   * from it was stored but not delivered yet (the feed will deliver it when it catches up).
   */
  settle(appended: readonly AppendResult[], timeoutMs: number): Promise<ReadonlyMap<string, number>> {
    const stored = appended.filter((result) => !result.duplicate);
    const missing = new Map<string, string>();
    for (const { id, cursor } of stored) if (this.#seen.get(id)?.[0] !== cursor) missing.set(id, cursor);
    const reached = (): ReadonlyMap<string, number> => {
      const map = new Map<string, number>();
      for (const { id, cursor } of stored) {
        const seen = this.#seen.get(id);
        if (seen !== undefined && seen[0] === cursor) map.set(id, seen[1]);
      }
      return map;
    };
    if (missing.size === 0 || this.#ended) {
      this.#end();
      return Promise.resolve(reached());
    }
    this.#missing = missing;
    return new Promise((resolve) => {
      this.#done = () => resolve(reached());
      this.#timer = setTimeout(() => this.#end(), timeoutMs);
    });
  }

  /** The append failed, or the feed closed: stop waiting (a pending `settle` resolves with what it has). */
  cancel(): void {
    this.#end();
  }

  #end(): void {
    if (this.#ended) return;
    this.#ended = true;
    clearTimeout(this.#timer);
    this.#forget(this);
    this.#done?.();
  }
}
