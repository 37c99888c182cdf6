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
 *
 * What the feed hands over is kept by position in `ids`, not in maps by id: the feed brings one
 * append's events in the order they were appended, so the next position is almost always the
 * one expected; only an event out of that order (a duplicate left a gap, or another process's
 * event of the same id) looks its position up, in an index built the first time. Maps keyed by
 * event id cost about a tenth of a publishing bus's CPU per event on Redis.
 */
export class PublishWait {
  /** Event ids this wait is registered under with the feed, in publish order. */
  readonly ids: readonly string[];
  readonly #forget: (wait: PublishWait) => void;
  /** Per position: the cursor the feed handed the event over with, and the subscribers it reached. */
  readonly #cursors: (string | undefined)[];
  readonly #reached: number[];
  /** The position the next handed-over event most likely has. */
  #next = 0;
  /** Positions by id, built for the first event that is not at `#next`. */
  #positions: Map<string, number[]> | undefined;
  /** Set by `settle`: per position, the cursor still awaited (undefined: nothing awaited). */
  #awaited: (string | undefined)[] | undefined;
  #missing = 0;
  #done: (() => void) | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #ended = false;

  constructor(ids: readonly string[], forget: (wait: PublishWait) => void) {
    this.ids = ids;
    this.#forget = forget;
    this.#cursors = new Array(ids.length);
    this.#reached = new Array(ids.length);
  }

  /** Called by the feed for an event whose id this wait is registered under. */
  seen(id: string, cursor: string, deliveredTo: number): void {
    if (this.#ended) return;
    const position = this.#positionOf(id);
    if (position < 0) return;
    this.#cursors[position] = cursor;
    this.#reached[position] = deliveredTo;
    const awaited = this.#awaited;
    if (awaited !== undefined && awaited[position] === cursor) {
      awaited[position] = undefined;
      if (--this.#missing === 0) this.#end();
    }
  }

  /**
   * After the append (`appended[i]` is the result for `ids[i]`): resolves once every event it
   * stored (not the duplicates) has come through the feed, or after `timeoutMs`. The array gives
   * the subscribers reached per position; undefined for a duplicate, or an event stored but not
   * delivered yet (the feed will deliver it when it catches up).
   */
  settle(appended: readonly AppendResult[], timeoutMs: number): Promise<readonly (number | undefined)[]> {
    const awaited: (string | undefined)[] = new Array(appended.length);
    let missing = 0;
    for (let i = 0; i < appended.length; i++) {
      const result = appended[i]!;
      if (!result.duplicate && this.#cursors[i] !== result.cursor) {
        awaited[i] = result.cursor;
        missing++;
      }
    }
    const reached = (): (number | undefined)[] => {
      const list: (number | undefined)[] = new Array(appended.length);
      for (let i = 0; i < appended.length; i++) {
        const result = appended[i]!;
        if (!result.duplicate && this.#cursors[i] === result.cursor) list[i] = this.#reached[i];
      }
      return list;
    };
    if (missing === 0 || this.#ended) {
      this.#end();
      return Promise.resolve(reached());
    }
    this.#awaited = awaited;
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

  #positionOf(id: string): number {
    const next = this.#next;
    if (next < this.ids.length && this.ids[next] === id) {
      this.#next = next + 1;
      return next;
    }
    if (this.#positions === undefined) {
      this.#positions = new Map();
      this.ids.forEach((other, position) => {
        const list = this.#positions!.get(other);
        if (list === undefined) this.#positions!.set(other, [position]);
        else list.push(position);
      });
    }
    const positions = this.#positions.get(id);
    if (positions === undefined) return -1;
    // The first position not handed over yet; when all were (the same id came again), the first.
    const position = positions.find((p) => this.#cursors[p] === undefined) ?? positions[0]!;
    this.#next = position + 1;
    return position;
  }

  #end(): void {
    if (this.#ended) return;
    this.#ended = true;
    clearTimeout(this.#timer);
    this.#forget(this);
    this.#done?.();
  }
}
