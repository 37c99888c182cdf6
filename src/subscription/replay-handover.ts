import { BuslineError, HistoryTruncatedError, StoreUnavailableError } from '../errors.js';
import type { StoredEvent } from '../event.js';
import type { EventStore } from '../store/event-store.js';
import type { BufferedSubscription } from './buffered-subscription.js';
import { HistoryTruncated } from './history-truncated.js';

/** Where a replay starts. */
export type ReplayStart = 'start' | { after: string } | { since: number };

export interface ReplayOptions {
  store: EventStore;
  start: ReplayStart;
  /** The subscription's patterns, passed to the store as `types`. */
  types: readonly string[];
  stream: string | undefined;
  filter: ((event: StoredEvent) => boolean) | undefined;
  /** `signal`: yield a HistoryTruncated item; `throw`: end the iteration with HistoryTruncatedError. */
  onTruncated: 'signal' | 'throw';
  pageSize: number;
  /** Most live events held while the replay runs; past it they are re-read from the store instead. */
  pendingLimit: number;
  /** Reports a filter that threw on a replayed event (which is then skipped, as in live delivery). */
  onFilterError: (error: unknown, event: StoredEvent) => void;
}

/**
 * Replays stored events into a subscription, then switches it to live with no gap and no
 * duplicate, even while other tasks publish:
 *
 * 1. The live subscriber is registered before the first read, so every event dispatched
 *    from then on reaches `push` and is held in `pending`.
 * 2. Pages are read until the store has nothing more; each replayed event waits for room in
 *    the subscription (history is never dropped by the overflow policy).
 * 3. At the switch, pending events with a cursor above the last one the store returned are
 *    delivered, waiting for room like history (the overflow policy applies only once live);
 *    the others were part of the replay. The same test stays on for live events:
 *    an event appended before the last read can be dispatched after the switch (its
 *    publisher's continuation runs later than the replay's), and it was replayed already.
 *    This needs the store guarantee that cursor order is visibility order (EventStore.append).
 *
 * If more live events arrive during the replay than `pendingLimit`, they are discarded and
 * read from the store instead (every dispatched event is stored first), so memory stays bounded.
 */
export class ReplayHandover {
  readonly #sink: BufferedSubscription<StoredEvent | HistoryTruncated>;
  readonly #options: ReplayOptions;
  #pending: StoredEvent[] = [];
  #pendingOverflowed = false;
  #live = false;
  /** The last cursor replayed or handed over: live events at or below it were delivered already. */
  #replayedUpTo: string | undefined;

  constructor(sink: BufferedSubscription<StoredEvent | HistoryTruncated>, options: ReplayOptions) {
    this.#sink = sink;
    this.#options = options;
  }

  /** Live delivery from the bus: held until the replay has caught up, then passed straight through. */
  push(event: StoredEvent): Promise<void> | undefined {
    if (this.#live) return this.#isReplayed(event) ? undefined : this.#sink.push(event);
    if (this.#pending.length < this.#options.pendingLimit) this.#pending.push(event);
    else this.#pendingOverflowed = true;
    return undefined;
  }

  /** Runs the replay; failures end the subscription with a typed error. */
  start(): void {
    this.#replay().catch((error: unknown) => {
      const failure =
        error instanceof BuslineError
          ? error
          : new StoreUnavailableError('Replay failed: the event store could not be read', { cause: error });
      this.#sink.fail(failure);
    });
  }

  async #replay(): Promise<void> {
    const { store, start, types, stream, filter, pageSize } = this.#options;
    let after = typeof start === 'object' && 'after' in start ? start.after : undefined;
    const since = typeof start === 'object' && 'since' in start ? start.since : undefined;
    while (this.#sink.isOpen) {
      const page = await store.read({ after, types, stream, since, limit: pageSize });
      if (page.truncated && !(await this.#truncated(after))) return;
      for (const event of page.events) {
        this.#replayedUpTo = event.cursor;
        if (filter !== undefined && !this.#passes(filter, event)) continue;
        const wait = this.#sink.offerWhenRoom(event);
        if (wait !== undefined) await wait;
      }
      after = page.next ?? this.#replayedUpTo ?? after;
      if (page.next !== undefined) continue;
      // Caught up with the store: hand over the held live events, then go live. If too many
      // arrived meanwhile they were discarded: they are in the store, so read on from there.
      if (await this.#handOverPending()) {
        this.#live = true;
        return;
      }
      after = this.#replayedUpTo ?? after;
    }
  }

  /**
   * Delivers the held live events not already replayed, waiting for room like replayed ones
   * (so the overflow policy never drops history at the switch). Returns false when the
   * held list overflowed meanwhile (the caller then reads the rest from the store).
   */
  async #handOverPending(): Promise<boolean> {
    for (;;) {
      if (this.#pendingOverflowed) {
        this.#pendingOverflowed = false;
        this.#pending = [];
        return false;
      }
      const held = this.#pending;
      if (held.length === 0) return true;
      this.#pending = [];
      for (const event of held) {
        if (this.#isReplayed(event)) continue;
        this.#replayedUpTo = event.cursor;
        const wait = this.#sink.offerWhenRoom(event);
        if (wait !== undefined) await wait;
        if (!this.#sink.isOpen) return true;
      }
    }
  }

  #passes(filter: (event: StoredEvent) => boolean, event: StoredEvent): boolean {
    try {
      return Boolean(filter(event));
    } catch (error) {
      this.#options.onFilterError(error, event);
      return false;
    }
  }

  /** Reports lost history; returns whether the replay goes on. */
  async #truncated(after: string | undefined): Promise<boolean> {
    if (this.#options.onTruncated === 'throw') {
      this.#sink.fail(new HistoryTruncatedError(truncationMessage(after, false)));
      return false;
    }
    const wait = this.#sink.offerWhenRoom(new HistoryTruncated(after, truncationMessage(after, true)));
    if (wait !== undefined) await wait;
    return true;
  }

  #isReplayed(event: StoredEvent): boolean {
    return this.#replayedUpTo !== undefined && event.cursor <= this.#replayedUpTo;
  }
}

function truncationMessage(after: string | undefined, resumes: boolean): string {
  const lost = `Events after cursor ${after ?? '(start)'} are no longer retained by the store`;
  return resumes ? `${lost}; the replay resumes at the oldest retained event` : lost;
}
