import { ClosedError, InvalidOptionError } from '../../errors.js';
import { type BusEvent, describe, type StoredEvent, toStoredEvent } from '../../event.js';
import { checkTime, optionalFunction, optionsObject, positiveInteger } from '../../option-checks.js';
import { checkAppendInput } from '../append-input.js';
import type { AppendResult, EventStore, ReadPage, ReadQuery, StoreStats } from '../event-store.js';
import { type CheckedReadQuery, checkReadQuery } from '../read-query.js';
import { type Entry, EntryQueue } from './entry-queue.js';
import { IdIndex } from './id-index.js';
import { MemoryCursor } from './memory-cursor.js';

export interface MemoryEventStoreOptions {
  /** Events kept per stream; the oldest of a stream goes first. @default 1000 */
  maxEventsPerStream?: number;
  /** Streams kept; the least recently written stream goes first. @default 10000 */
  maxStreams?: number;
  /** Events kept in all; the oldest goes first. @default 100000 */
  maxEvents?: number;
  /** Events older than this (since the store received them) are never returned and are removed. @default unlimited */
  retentionMs?: number;
  /** Time source for retention. @default Date.now */
  clock?: () => number;
}

/** Key of MemoryEventStore's synchronous append for events the bus owns (not part of the public port). */
export const appendOwned: unique symbol = Symbol('busline.appendOwned');

export const MEMORY_STORE_DEFAULTS = {
  maxEventsPerStream: 1000,
  maxStreams: 10_000,
  maxEvents: 100_000,
} as const;

type Item = Entry<StreamState>;

/** One stream's retained events, and its place in the least-recently-written list. */
class StreamState {
  readonly entries = new EntryQueue<StreamState>();
  prev: StreamState | null = null;
  next: StreamState | null = null;
  constructor(
    readonly name: string,
    /** Highest seq removed from this stream (or possibly removed, for a recreated stream). */
    public evictedHigh: number,
  ) {}
}

/**
 * The embedded default store: bounded in events per stream, streams and events overall,
 * optionally in age. Events are kept by reference (they are read-only), so appending costs
 * no serialization. Cursors sort as strings in append order.
 */
export class MemoryEventStore implements EventStore {
  readonly #maxPerStream: number;
  readonly #maxStreams: number;
  readonly #maxEvents: number;
  readonly #retentionMs: number | undefined;
  readonly #clock: () => number;
  readonly #cursor = new MemoryCursor();
  readonly #ids = new IdIndex<StreamState>();
  readonly #streams = new Map<string, StreamState>();
  /** Every entry in seq order; removed ones stay as tombstones until compaction. */
  readonly #log = new EntryQueue<StreamState>();
  #tombstones = 0;
  #seq = 0;
  #evictedHigh = 0;
  #removedStreamsHigh = 0;
  #evicted = 0;
  #nextCleanupAt = 0;
  /** Least and most recently written streams (a linked list: moving a stream costs no Map churn). */
  #lru: StreamState | null = null;
  #mru: StreamState | null = null;
  #closed = false;

  constructor(given?: MemoryEventStoreOptions) {
    const options = optionsObject('MemoryEventStore', given);
    this.#maxPerStream = positiveInteger(
      'maxEventsPerStream',
      options.maxEventsPerStream,
      MEMORY_STORE_DEFAULTS.maxEventsPerStream,
    );
    this.#maxStreams = positiveInteger('maxStreams', options.maxStreams, MEMORY_STORE_DEFAULTS.maxStreams);
    this.#maxEvents = positiveInteger('maxEvents', options.maxEvents, MEMORY_STORE_DEFAULTS.maxEvents);
    this.#retentionMs =
      options.retentionMs === undefined ? undefined : positiveInteger('retentionMs', options.retentionMs, 0);
    this.#clock = optionalFunction('clock', options.clock) ?? Date.now;
  }

  async append(events: readonly BusEvent[]): Promise<AppendResult[]> {
    this.#assertOpen();
    // A copy per event: the caller may reuse or change its objects after the call.
    return this.#write(checkAppendInput(events), toStoredEvent);
  }

  /**
   * The bus's fast path (`appendOwned` symbol): synchronous, no re-validation, and the bus's
   * own event objects are kept (their `cursor` set here) instead of copies. Only for events
   * the bus stamped and validated and never hands out before this call returns.
   * @param generated per event (or for all): its id came from `createEventId` in this process,
   *   so it usually sorts after every id stored before (see IdIndex)
   * @internal
   */
  [appendOwned](events: readonly StoredEvent[], generated: boolean | readonly boolean[]): AppendResult[] {
    this.#assertOpen();
    return this.#write(
      events,
      (event, cursor) => {
        (event as unknown as { cursor: string }).cursor = cursor;
        return event as StoredEvent;
      },
      generated,
    );
  }

  #write(
    events: readonly BusEvent[],
    keep: (event: BusEvent, cursor: string) => StoredEvent,
    generated: boolean | readonly boolean[] = false,
  ): AppendResult[] {
    // storedAt only matters for retention: without one, spare the clock read.
    const now = this.#retentionMs === undefined ? 0 : this.#clock();
    const results: AppendResult[] = new Array(events.length);
    for (let i = 0; i < events.length; i++) {
      const event = events[i]!;
      const existing = this.#ids.get(event.id);
      if (existing !== undefined) {
        results[i] = { id: event.id, cursor: existing.event!.cursor, duplicate: true };
        continue;
      }
      const cursor = this.#cursor.format(++this.#seq);
      const stored = keep(event, cursor);
      const ascending = generated === true || (generated !== false && generated[i] === true);
      this.#insert(
        { seq: this.#seq, storedAt: now, stream: this.#streamFor(event.stream), event: stored },
        ascending,
      );
      results[i] = { id: event.id, cursor, duplicate: false };
    }
    if (this.#retentionMs !== undefined && now >= this.#nextCleanupAt) this.#expire(now);
    return results;
  }

  async read(query: ReadQuery = {}): Promise<ReadPage> {
    this.#assertOpen();
    const q = checkReadQuery(query);
    let afterSeq = q.backward ? Number.POSITIVE_INFINITY : 0;
    let truncated = false;
    if (q.after !== undefined) {
      const seq = this.#cursor.parse(q.after);
      if (seq === undefined)
        throw new InvalidOptionError(`Expected \`after\` to be a cursor of this store, got "${q.after}"`);
      if (seq === -1)
        truncated = true; // an earlier epoch: its history is gone
      else afterSeq = seq;
    }
    const stream = q.stream === undefined ? undefined : this.#streams.get(q.stream);
    const queue = q.stream === undefined ? this.#log : stream?.entries;
    if (!q.backward && q.after !== undefined) {
      const removedHigh =
        q.stream === undefined ? this.#evictedHigh : (stream?.evictedHigh ?? this.#removedStreamsHigh);
      truncated ||= afterSeq < removedHigh;
    }
    const page: ReadPage = queue === undefined ? { events: [] } : this.#scan(queue, q, afterSeq);
    if (truncated) page.truncated = true;
    // The end of the store, also once retention removed the last event (see ReadPage.head).
    if (q.backward && q.after === undefined && page.events.length === 0 && page.next === undefined)
      page.head = this.#cursor.format(this.#seq);
    return page;
  }

  async has(id: string): Promise<boolean> {
    this.#assertOpen();
    if (typeof id !== 'string')
      throw new InvalidOptionError(`Expected an event id string, got ${describe(id)}`);
    return this.#ids.get(id) !== undefined;
  }

  async cleanup(now: number): Promise<number> {
    this.#assertOpen();
    checkTime('now', now);
    return this.#retentionMs === undefined ? 0 : this.#expire(now);
  }

  async stats(): Promise<StoreStats> {
    return {
      events: this.#ids.size,
      streams: this.#streams.size,
      evicted: this.#evicted,
      maxEventsPerStream: this.#maxPerStream,
      maxStreams: this.#maxStreams,
      maxEvents: this.#maxEvents,
      epoch: this.#cursor.epoch,
    };
  }

  async close(): Promise<void> {
    this.#closed = true;
  }

  #scan(queue: EntryQueue<StreamState>, q: CheckedReadQuery, afterSeq: number): ReadPage {
    const events: StoredEvent[] = [];
    const cutoff =
      this.#retentionMs === undefined ? Number.NEGATIVE_INFINITY : this.#clock() - this.#retentionMs;
    const step = q.backward ? -1 : 1;
    let i = q.backward ? queue.indexAfter(afterSeq - 1) - 1 : queue.indexAfter(afterSeq);
    for (; i >= 0 && i < queue.length; i += step) {
      const entry = queue.at(i)!;
      const event = entry.event;
      if (event === null || entry.storedAt < cutoff) continue;
      if (event.time < q.since || event.time >= q.until) continue;
      if (q.types !== undefined && !q.types.matches(event.type)) continue;
      // One match past a full page proves there is more: only then is `next` set.
      if (events.length === q.limit) return { events, next: events[events.length - 1]!.cursor };
      events.push(event);
    }
    return { events };
  }

  #insert(entry: Item, ascending: boolean): void {
    const stream = entry.stream;
    this.#ids.add(entry.event!.id, entry, ascending);
    this.#log.push(entry);
    stream.entries.push(entry);
    if (stream.entries.length > this.#maxPerStream) this.#remove(stream.entries.shift()!);
    if (this.#ids.size > this.#maxEvents) this.#removeOldest();
  }

  /** Marks an entry removed (it must already be out of its stream's queue). */
  #remove(entry: Item): void {
    const event = entry.event!;
    entry.event = null;
    this.#ids.delete(event, entry);
    this.#evicted++;
    this.#tombstones++;
    if (entry.seq > this.#evictedHigh) this.#evictedHigh = entry.seq;
    if (entry.seq > entry.stream.evictedHigh) entry.stream.evictedHigh = entry.seq;
    // Evicted as its stream's oldest, it is often the oldest overall too: leave no tombstone then.
    if (this.#log.first() === entry) {
      this.#log.shift();
      this.#tombstones--;
    }
    if (this.#tombstones > 1024 && this.#tombstones > this.#ids.size) {
      this.#log.retain((e) => e.event !== null);
      this.#tombstones = 0;
    }
  }

  /** Removes the oldest retained event overall; drops its stream when that empties it. */
  #removeOldest(): void {
    for (let entry = this.#log.shift(); entry !== undefined; entry = this.#log.shift()) {
      if (entry.event === null) {
        this.#tombstones--;
        continue;
      }
      entry.stream.entries.shift(); // the oldest overall is the oldest of its stream
      this.#remove(entry);
      this.#tombstones--; // it left the log already
      if (entry.stream.entries.length === 0) this.#dropStream(entry.stream);
      return;
    }
  }

  #expire(now: number): number {
    const cutoff = now - this.#retentionMs!;
    this.#nextCleanupAt = now + Math.max(1, Math.floor(this.#retentionMs! / 10));
    let removed = 0;
    for (
      let first = this.#log.first();
      first !== undefined && first.storedAt < cutoff;
      first = this.#log.first()
    ) {
      if (first.event === null) {
        this.#log.shift();
        this.#tombstones--;
        continue;
      }
      this.#removeOldest();
      removed++;
    }
    return removed;
  }

  #streamFor(name: string): StreamState {
    let stream = this.#streams.get(name);
    if (stream === undefined) {
      if (this.#streams.size >= this.#maxStreams) this.#evictStream(this.#lru!);
      stream = new StreamState(name, this.#removedStreamsHigh);
      this.#streams.set(name, stream);
    } else if (stream === this.#mru) {
      return stream;
    } else {
      this.#unlink(stream);
    }
    stream.prev = this.#mru;
    if (this.#mru) this.#mru.next = stream;
    this.#mru = stream;
    this.#lru ??= stream;
    return stream;
  }

  #evictStream(stream: StreamState): void {
    for (let entry = stream.entries.shift(); entry !== undefined; entry = stream.entries.shift())
      this.#remove(entry);
    this.#dropStream(stream);
  }

  #dropStream(stream: StreamState): void {
    this.#unlink(stream);
    this.#streams.delete(stream.name);
    if (stream.evictedHigh > this.#removedStreamsHigh) this.#removedStreamsHigh = stream.evictedHigh;
  }

  #unlink(stream: StreamState): void {
    if (stream.prev) stream.prev.next = stream.next;
    else this.#lru = stream.next;
    if (stream.next) stream.next.prev = stream.prev;
    else this.#mru = stream.prev;
    stream.prev = stream.next = null;
  }

  #assertOpen(): void {
    if (this.#closed) throw new ClosedError('The memory event store is closed');
  }
}
