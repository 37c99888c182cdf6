import type { BusEvent, StoredEvent } from '../event.js';

/** The outcome of appending one event. */
export interface AppendResult {
  id: string;
  /** The event's cursor; for a duplicate, the cursor of the event stored first. */
  cursor: string;
  /** True when an event with this id was already stored (nothing was written). */
  duplicate: boolean;
}

/** A query on the store. Every field narrows; all are optional. */
export interface ReadQuery {
  /** Only this stream. A store should answer it without scanning other streams. */
  stream?: string;
  /**
   * Exclusive bound: events strictly after this cursor (strictly before it when
   * `direction` is `'backward'`). Pass a page's `next` to continue.
   */
  after?: string;
  /** Patterns (`task.*`, `**`) with the bus's matching rules; any may match. */
  types?: readonly string[];
  /** `event.time` ≥ since (epoch ms). */
  since?: number;
  /** `event.time` < until (epoch ms). */
  until?: number;
  /** Most events per page. @default 100; at most READ_LIMITS.maxLimit (10,000). */
  limit?: number;
  /** `forward`: oldest first. `backward`: newest first. @default 'forward' */
  direction?: 'forward' | 'backward';
}

export interface ReadPage {
  /** In cursor order (reversed for `backward`). */
  events: StoredEvent[];
  /**
   * Present when more matching events may follow: pass it as `after` for the next page. It may
   * come with no events, when the store stopped at a scan budget (RedisEventStore's
   * `readScanLimit`) before it found a match: keep reading. Callers can stop between pages.
   */
  next?: string;
  /**
   * True when events after `after` were removed by retention (or `after` comes from an
   * earlier epoch of the store), so this page does not continue where that cursor left off.
   * A store may answer a cursor of another epoch with no events and no `next` (RedisEventStore
   * does): nothing of that history remains, and the reader goes on live.
   */
  truncated?: boolean;
  /**
   * Optional. On a backward read from the newest end (no `after`) that finds no event: a
   * cursor for the end of the store as it is now ("after the last append", even when retention
   * removed that event, or "before the first" when nothing was ever appended). A shared bus
   * places its live feed there, so `tail(head)` (and `read({ after: head })`) must miss nothing
   * appended later and report HISTORY_TRUNCATED (`truncated`) if retention removes any of it
   * first. Without it a feed placed on an empty store tails from `'start'`, and if it loses its
   * connection before its first event it cannot tell whether retention removed events meanwhile.
   */
  head?: string;
}

/** Hints a `tail` may use; a store that ignores them is correct, only slower. */
export interface TailOptions {
  /**
   * Events the caller has no use for (no local subscriber for the type): a store may leave out
   * an event for which it returns true, before decoding it. The bus uses it so a process does
   * not decode events it never delivers, other processes' or its own.
   * @param cursor the event's cursor, made on call. A store that passes it lets the bus settle
   *   a publish of its own whose type no one here subscribes to without the event decoded;
   *   without it the bus asks for such an event whole.
   */
  skip?(id: string, type: string, cursor?: () => string): boolean;
}

export interface StoreStats {
  /** Events currently retained. */
  events: number;
  /** Streams currently retained. */
  streams: number;
  /** Adapter-specific numbers (memory use, evictions, lengths…). */
  [key: string]: number | string | boolean;
}

export const READ_LIMITS = {
  defaultLimit: 100,
  maxLimit: 10_000,
} as const;

/**
 * The storage port. Implement it to keep events anywhere; prove the implementation with
 * `describeEventStore` from `busline/testing`. See docs/stores.md for the guarantees.
 */
export interface EventStore {
  /**
   * Appends events atomically per call (all or none) and assigns cursors. Idempotent by id:
   * re-appending a stored id writes nothing and returns `{ duplicate: true }` with the cursor
   * of the original (also for the same id twice in one call). A store may bound one call's
   * work instead of being atomic across all of it: RedisEventStore splits an append of more
   * than 500 events or 1 MiB into script calls, each atomic; a failure leaves the earlier ones
   * stored (the error says so: `mayHaveApplied`), and appending the same events again, same
   * ids, completes it. The order of the events is kept either way.
   *
   * Cursors are strings that sort (plain `<` on strings) in append order, and that order is
   * also visibility order: once a read has returned cursor c, no event with a cursor below c
   * may appear later. The bus relies on it for a gapless replay → live handover.
   */
  append(events: readonly BusEvent[]): Promise<AppendResult[]>;
  /** One page of events in cursor order, with `next` for paging and `truncated` for lost history. */
  read(query: ReadQuery): Promise<ReadPage>;
  /** Exact "is this id stored?" check. Optional; the bus uses it to confirm bloom-filter positives. */
  has?(id: string): Promise<boolean>;
  /**
   * Live feed of events appended by any process, strictly after `after`. Optional: only
   * stores shared between processes need it (the bus then dispatches remote events locally).
   * Ending with a CLOSED error says the store cannot serve again (it, or the connection it was
   * given, was closed): the bus's feed then reports it once and stops instead of retrying.
   */
  tail?(
    after: string | 'start' | 'now',
    signal: AbortSignal,
    options?: TailOptions,
  ): AsyncIterable<StoredEvent>;
  /** Applies retention as of `now` (epoch ms); returns how many events were removed. Optional. */
  cleanup?(now: number): Promise<number>;
  stats(): Promise<StoreStats>;
  /** Releases what the store created (timers, connections it opened). Idempotent. */
  close(): Promise<void>;
}
