import type { CursorWatch } from '../bus/live-feed.js';
import { BuslineError, HistoryTruncatedError, StoreUnavailableError } from '../errors.js';
import type { StoredEvent } from '../event.js';
import type { EventStore } from '../store/event-store.js';
import type { Inbox } from './inbox.js';
import type { ReadSlots } from './read-slots.js';

/** Where a subscription starts: live only, or replaying the store first. */
export type CatchUpStart = 'now' | 'start' | { after: string } | { since: number };

export interface CatchUpOptions {
  store: EventStore;
  start: CatchUpStart;
  /** The subscription's patterns, passed to the store as `types`. */
  types: readonly string[];
  stream: string | undefined;
  filter: ((event: StoredEvent) => boolean) | undefined;
  /**
   * `true`: a full inbox makes the subscription catch up from the store. `false`: the user
   * asked for a drop or error policy, which the inbox applies to live events as it would
   * without a store (replayed history is still never dropped).
   */
  catchUp: boolean;
  pageSize: number;
  /** Most live events held while reading the store; past it they are re-read from the store instead. */
  pendingLimit: number;
  /** Reports a filter that threw on a replayed event (which is then skipped, as in live delivery). */
  onFilterError(error: unknown, event: StoredEvent): void;
  /**
   * The store no longer retains what follows the subscription's position. Returns whether the
   * subscription goes on (with what the store still holds) or stopped.
   */
  onTruncated(error: HistoryTruncatedError): boolean | Promise<boolean>;
  /**
   * Reading the store failed for the `failures`-th time in a row. Returns how long to wait
   * before trying again, or `undefined` to stop.
   */
  onReadError(error: BuslineError, failures: number): number | undefined;
  /** Tracks a running read loop (the bus's `drain()` waits for handler catch-ups). */
  busy?(delta: 1 | -1): void;
  /** The bus's bound on store reads running at once (replays and catch-ups of all its subscriptions). */
  slots: ReadSlots;
  /** Watches the shared live feed for the event at a cursor (LiveFeed.watch); absent without a feed. */
  watchFeed?(cursor: string): CursorWatch | undefined;
}

/**
 * Stands in front of a subscription's inbox whenever the bus has a store, and makes two
 * promises hold: a replay (`from`) hands over to live with no gap and no duplicate, and a
 * subscriber that falls behind never loses an event, never grows past its bound and never
 * slows anyone else. Both are the same move:
 *
 * 1. The subscriber stays registered, so every event dispatched meanwhile reaches `push`,
 *    which holds it in `pending` (bounded: past `pendingLimit` they are discarded and re-read,
 *    since every dispatched event is stored first).
 * 2. Pages are read after the subscription's position, each event waiting for room in the
 *    inbox (read at the reader's pace, never dropped).
 * 3. When the store has nothing more, held events above the last cursor read are handed over
 *    and the subscription is live again. The same test stays on for live events: an event
 *    stored before the last read can be dispatched later (a lagging shared feed, or a
 *    publisher's continuation running after the read), and it was read already. This needs
 *    the store guarantee that cursor order is visibility order (EventStore.append).
 *
 * Live, a full inbox is step 0: the subscription stops taking live events and catches up
 * from the last cursor it was given (see `#position`).
 */
export class CatchUp {
  readonly #inbox: Inbox<StoredEvent>;
  readonly #options: CatchUpOptions;
  #pending: StoredEvent[] = [];
  #pendingOverflowed = false;
  #live: boolean;
  /** The last cursor read from the store (or handed over): live events at or below it were seen. */
  #readUpTo: string | undefined;
  /** Every event at or below this cursor was given to the inbox or filtered out: where a catch-up resumes. */
  #position: string | undefined;
  /**
   * Events it is known to owe its reader while it reads the store: the live one that found the
   * inbox full, and every live one dispatched since (held or not), less those handed over
   * since. A lower bound: what a replay has still to read of older history is not known.
   */
  #behind = 0;
  /**
   * The feed's watch for the cursor this catch-up reads after, taken when it began. Dropped once
   * the live events held since are no longer all there (the held list overflowed and was
   * dropped, or the feed lost its place).
   */
  #watch: CursorWatch | undefined;
  /**
   * How many times the shared feed was placed again (after losing its place) while this
   * subscription was reading the store. A read begun before a placement may have looked before
   * events the feed then skipped: only a read begun after the last one may end the catch-up.
   */
  #placements = 0;

  constructor(inbox: Inbox<StoredEvent>, options: CatchUpOptions) {
    this.#inbox = inbox;
    this.#options = options;
    this.#live = options.start === 'now';
    const after =
      typeof options.start === 'object' && 'after' in options.start ? options.start.after : undefined;
    // A resume never yields the resume point itself or anything before it, even from a feed that lags.
    this.#readUpTo = after;
    this.#position = after;
  }

  /** Events waiting for the reader or the handler, and live ones held while the store is read. */
  get held(): number {
    return this.#inbox.held + this.#pending.length;
  }

  get catchingUp(): boolean {
    return !this.#live;
  }

  /** How many events it is known to be behind (0 when live); see `#behind`. */
  get behind(): number {
    return this.#live ? 0 : this.#behind;
  }

  /** Starts the replay (`from`); a live-only subscription needs nothing. */
  start(): void {
    const { start } = this.#options;
    if (start !== 'now') this.#read(start);
  }

  /**
   * The shared feed lost its place after `position` (every event up to it was dispatched) and
   * is placed again at the newest event: a live subscription reads what follows it from the
   * store and hands over to live again. One that is reading already goes on reading, but does
   * not go live on a read begun before now: what that read did not see and the feed skipped
   * would be lost (simulation seed 118183). Retention that passed it is reported as usual.
   */
  resync(position: string): void {
    if (!this.#live) {
      this.#dropWatch();
      this.#placements++;
      return;
    }
    if (!this.#inbox.isOpen) return;
    this.#live = false;
    // How much the feed skipped is not known here: count only what arrives from now on.
    this.#behind = 0;
    // This subscription may have read further than the feed had come (a catch-up while it lagged).
    let after = position === 'start' ? undefined : position;
    for (const seen of [this.#position, this.#readUpTo]) {
      if (seen !== undefined && (after === undefined || seen > after)) after = seen;
    }
    // With no position at all (a feed placed on an empty store, a subscription given nothing), a
    // read from 'start' cannot say what retention removed: the feed's loss is this one's too.
    this.#read(after === undefined ? 'start' : { after }, after === undefined);
  }

  /** Live delivery from the bus. Returns a promise only when the inbox applies `block` (no catch-up). */
  push(event: StoredEvent): Promise<void> | undefined {
    if (!this.#live) {
      this.#behind++;
      if (this.#pending.length < this.#options.pendingLimit) this.#pending.push(event);
      else this.#pendingOverflowed = true;
      return undefined;
    }
    if (this.#readUpTo !== undefined && event.cursor <= this.#readUpTo) return undefined;
    const inbox = this.#inbox;
    if (inbox.hasRoom()) {
      inbox.accept(event);
      this.#position = event.cursor;
      return undefined;
    }
    if (!this.#options.catchUp || !inbox.isOpen) return inbox.push(event);
    // Full: stop taking live events and read what this one and the next ones are from the store.
    // With no position, no event was given since the last read found none (a replay with nothing
    // to replay, or a truncation report that filled the inbox): every event the store holds for
    // this subscription is owed, so the catch-up reads from the oldest.
    this.#live = false;
    this.#behind = 1;
    this.#read(this.#position === undefined ? 'start' : { after: this.#position });
    return undefined;
  }

  #read(from: Exclude<CatchUpStart, 'now'>, lostAlready = false): void {
    // Registered already (the bus registers before the first read): from here on every event
    // the feed delivers reaches `push`, and is held.
    this.#dropWatch();
    const after = typeof from === 'object' && 'after' in from ? from.after : undefined;
    const watch = after === undefined ? undefined : this.#options.watchFeed?.(after);
    this.#watch = watch;
    this.#options.busy?.(1);
    this.#readUntilLive(from, lostAlready)
      .catch((error: unknown) => {
        // Not a read failure (those are handled in the loop): a bug or a throwing hook.
        this.#options.onReadError(
          error instanceof BuslineError
            ? error
            : new StoreUnavailableError('Catch-up failed', { cause: error }),
          Number.POSITIVE_INFINITY,
        );
      })
      .finally(() => {
        // This loop's own watch: a catch-up begun since (in the turn this one went live) has its own.
        watch?.release();
        if (this.#watch === watch) this.#watch = undefined;
        this.#options.busy?.(-1);
      });
  }

  async #readUntilLive(from: Exclude<CatchUpStart, 'now'>, lostAlready: boolean): Promise<void> {
    if (lostAlready && !(await this.#truncated(undefined)).goesOn) return;
    const { store, types, stream, filter, pageSize } = this.#options;
    const inbox = this.#inbox;
    let after = typeof from === 'object' && 'after' in from ? from.after : undefined;
    /** The cursor this loop began after: possibly the caller's, of another store epoch. */
    const given = after;
    const since = typeof from === 'object' && 'since' in from ? from.since : undefined;
    let failures = 0;
    let first = true;
    while (inbox.isOpen) {
      if (!inbox.hasRoom()) {
        await inbox.whenRoom();
        continue;
      }
      let page: Awaited<ReturnType<EventStore['read']>>;
      // Placements of the feed before this read began: a later one voids its "nothing more".
      const placements = this.#placements;
      try {
        const query = { after, types, stream, since, limit: pageSize };
        page = await this.#options.slots.run(() => store.read(query));
      } catch (error) {
        const retryMs = this.#options.onReadError(readFailure(error), ++failures);
        if (retryMs === undefined) return;
        await delay(retryMs);
        continue;
      }
      failures = 0;
      if (
        first &&
        !page.truncated &&
        page.events.length === 0 &&
        page.next === undefined &&
        after !== undefined
      ) {
        // Nothing after `after`: an idle resume, or a cursor past anything the store issued (a
        // forged Last-Event-ID), which would make this subscription skip every live event up to it.
        if (!(await this.#checkNotAhead(after))) return;
      }
      first = false;
      if (page.truncated && this.#heldCovers(after, after !== given)) {
        // Retention passed `after`, but since this catch-up began the feed, without losing its
        // place, delivered the event at `after` itself or everything after a cursor at or before
        // it: every event after it reached `push` since (and is held), or will come live. Nothing
        // is lost: hand over and go live, no report (simulation seeds 3471, 187303, 81661).
        this.#readUpTo = after;
        if (await this.#handOverPending(placements)) return;
        after = this.#readUpTo ?? after;
        continue;
      }
      if (page.truncated) {
        const { goesOn, oldest } = await this.#truncated(after);
        if (!goesOn) return;
        // What was read before the gap still bounds what is held (a lagging feed may bring events
        // from before it: simulation seed 284392) while the history after the gap sorts after it:
        // retention passed this position, or a new epoch began whose cursors all sort above it.
        // A new epoch sorting below, or a store left empty, says nothing about cursors after it.
        const upTo = this.#readUpTo;
        if (oldest === undefined || upTo === undefined || oldest <= upTo) this.#readUpTo = undefined;
      }
      for (const event of page.events) {
        if (!inbox.hasRoom()) await inbox.whenRoom();
        if (!inbox.isOpen) return;
        this.#readUpTo = event.cursor;
        this.#position = event.cursor;
        if (filter === undefined || this.#passes(filter, event)) this.#acceptOwed(event);
      }
      after = page.next ?? this.#readUpTo ?? after;
      if (page.next !== undefined) continue;
      // Live from inside the hand-over, in the same turn that found nothing more held: awaited
      // here, an event dispatched during the await's turn would be held and never handed over.
      if (await this.#handOverPending(placements)) return;
      after = this.#readUpTo ?? after;
    }
  }

  /**
   * Gives the held live events not read already, waiting for room like read ones, and turns
   * the subscription live once none is left. Returns false when the held list overflowed
   * meanwhile, or when the feed was placed again since the last read began (`placements`, the
   * count then): the caller then reads the rest from the store.
   */
  async #handOverPending(placements: number): Promise<boolean> {
    const inbox = this.#inbox;
    for (;;) {
      if (this.#pendingOverflowed) {
        this.#pendingOverflowed = false;
        this.#pending = [];
        this.#dropWatch();
        return false;
      }
      // What is held (not read already) is kept: the next read's events come first, and a held
      // event at or below what it reads is skipped then.
      if (this.#placements !== placements) return false;
      const held = this.#pending;
      if (held.length === 0) {
        this.#live = true;
        this.#behind = 0;
        return true;
      }
      this.#pending = [];
      for (const event of held) {
        if (this.#readUpTo !== undefined && event.cursor <= this.#readUpTo) continue;
        if (!inbox.hasRoom()) await inbox.whenRoom();
        if (!inbox.isOpen) {
          this.#live = true;
          return true;
        }
        this.#readUpTo = event.cursor;
        this.#position = event.cursor;
        this.#acceptOwed(event);
      }
    }
  }

  /**
   * Whether the held live events cover everything after `after`: since this catch-up began the
   * feed has not lost its place and nothing held was dropped, and the feed delivered the event at
   * exactly `after` since, or has delivered everything after a cursor at or before `after` (the
   * watch's `from`). That `from` is earlier only by string order, which holds within one store
   * epoch: it is trusted only for an `after` this loop read from the store itself (`read`), not
   * for the caller's cursor, which may come from another epoch (then only equality counts).
   */
  #heldCovers(after: string | undefined, read: boolean): boolean {
    const watch = this.#watch;
    if (watch === undefined || after === undefined || watch.lost || this.#pendingOverflowed) return false;
    if (watch.cursor === after && watch.seen) return true;
    const from = watch.from;
    return from !== undefined && (from === after || (read && from < after));
  }

  #dropWatch(): void {
    this.#watch?.release();
    this.#watch = undefined;
  }

  /** Gives the inbox an event read or held while catching up: one fewer owed. */
  #acceptOwed(event: StoredEvent): void {
    this.#inbox.accept(event);
    if (this.#behind > 0) this.#behind--;
  }

  #passes(filter: (event: StoredEvent) => boolean, event: StoredEvent): boolean {
    try {
      return Boolean(filter(event));
    } catch (error) {
      this.#options.onFilterError(error, event);
      return false;
    }
  }

  /**
   * A resume point ahead of the store's newest event was never issued by it: it is reported as
   * history the store does not hold (HISTORY_TRUNCATED), and the subscription goes on from the
   * newest event. Returns whether it goes on.
   */
  async #checkNotAhead(after: string): Promise<boolean> {
    const { store, slots } = this.#options;
    let newest: string | undefined;
    try {
      newest = (await slots.run(() => store.read({ direction: 'backward', limit: 1 }))).events[0]?.cursor;
    } catch {
      return true; // a courtesy check: a store that fails it now fails the next read too
    }
    if (newest === undefined || newest >= after) return true;
    if (!(await this.#truncated(after)).goesOn) return false;
    this.#readUpTo = newest;
    this.#position = newest;
    return true;
  }

  /**
   * Reports lost history (naming the oldest retained cursor); returns whether reading goes on,
   * and that cursor (undefined when the store holds nothing or could not say).
   */
  async #truncated(after: string | undefined): Promise<{ goesOn: boolean; oldest: string | undefined }> {
    let oldest: string | undefined;
    try {
      oldest = (await this.#options.store.read({ limit: 1 })).events[0]?.cursor;
    } catch {
      // The oldest cursor is a courtesy in the error; the truncation is reported either way.
    }
    const lost = `Events after cursor ${after ?? '(start)'} are no longer retained by the store`;
    const message = oldest === undefined ? lost : `${lost}; the oldest retained cursor is ${oldest}`;
    const goesOn = await this.#options.onTruncated(new HistoryTruncatedError(message, { after, oldest }));
    return { goesOn, oldest };
  }
}

function readFailure(error: unknown): BuslineError {
  return error instanceof BuslineError
    ? error
    : new StoreUnavailableError('Catch-up failed: the event store could not be read', { cause: error });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
