import { abortableSleep } from '../abortable-sleep.js';
import type { StoredEvent } from '../event.js';
import { PublishWait } from '../publish/publish-wait.js';
import type { EventStore } from '../store/event-store.js';

export interface LiveFeedOptions {
  store: EventStore & Required<Pick<EventStore, 'tail'>>;
  /**
   * Delivers one event to the local subscribers; returns how many it reached. It never makes
   * the feed wait: a subscriber that cannot keep up catches up from the store on its own.
   */
  dispatch(event: StoredEvent): number;
  report(error: unknown): void;
  /**
   * The feed lost its place: the store no longer has what follows its last cursor (Redis
   * came back empty, or trimmed past it). Called at once (the bus notes who was subscribed
   * then); the function it returns is called once the feed is placed again at the newest event
   * and before it delivers anything newer, with the position it lost (`'start'` or the last
   * cursor it was at): every event up to it reached those subscribers, so each can read what
   * it may have missed after it.
   */
  lostHistory(error: unknown): (position: string) => void;
  /** Whether an event of this type would reach anyone here (a subscriber, a group's watcher). */
  wanted(type: string): boolean;
  /** Wait before restarting a tail that failed. @default 250 */
  retryMs?: number;
  /** The bus clock: the feed's lag is this clock's time at delivery minus the event's `time`. */
  clock(): number;
}

/**
 * A catch-up's watch for one cursor (LiveFeed.watch): `seen` once the feed delivers the event at
 * exactly that cursor, `lost` once the feed loses its place. The feed compares cursors only for
 * equality: cursors of two store epochs do not order.
 */
export interface CursorWatch {
  readonly cursor: string;
  readonly seen: boolean;
  readonly lost: boolean;
  /**
   * A cursor after which the feed has brought, or will bring, every event to the local
   * subscribers since the watch began (until `lost`): where the feed was when the watch began,
   * or, if its tail had left events out past that, the first event it delivered since.
   * Undefined until known.
   */
  readonly from: string | undefined;
  release(): void;
}

/**
 * With a store shared between processes, every event — local or remote — reaches the local
 * subscribers through one ordered feed: the store's `tail`. That is what makes every process
 * see store order per stream, and a bus never deliver its own event twice.
 *
 * Positioning: the feed reads the newest cursor first and tails strictly after it, so
 * `ready` resolves exactly when "everything published from now on" is covered. A tail that
 * fails is restarted from the last cursor it delivered — unless the store says that history
 * is gone (HISTORY_TRUNCATED): then it re-positions at the newest event and the bus is told
 * (`lostHistory`), never silently resumed at a wrong place. A store that says it is closed
 * (CLOSED: closed before the bus, or its Redis client was) stops the feed until the bus closes.
 *
 * A publisher registers a PublishWait by event id before it appends (`expect`); the feed hands
 * it its events as they pass and keeps nothing about any other event.
 */
export class LiveFeed {
  readonly #options: LiveFeedOptions;
  /**
   * What the store need not decode: an event no one here subscribes to. Leaving it out only
   * keeps the feed's last cursor further back, so a restarted tail reads it again (and leaves
   * it out again). The type first: a wanted one (a cached lookup of a few distinct types)
   * spares hashing the id for a map this process then reads anyway.
   *
   * A publish of this bus waiting for such an event needs only its cursor (no one here gets
   * it: delivered to 0): settled from the cursor the store names, it is not decoded, so an
   * ingest process that publishes for others never parses its own events back. The event is
   * asked for whole when the store cannot name the cursor, or while a catch-up watches the
   * feed (a watch is marked by deliveries; see `watch`).
   */
  readonly #skip = (id: string, type: string, cursor?: () => string): boolean => {
    if (this.#options.wanted(type)) return false;
    const waits = this.#waiting.get(id);
    if (waits !== undefined) {
      if (cursor === undefined || this.#watches.size > 0) return false;
      this.#settle(waits, id, cursor(), 0);
    }
    this.#skipped = true;
    return true;
  };
  readonly #abort = new AbortController();
  /** Publishers waiting for their own events, by event id (rarely two for one id: a list). */
  readonly #waiting = new Map<string, PublishWait | PublishWait[]>();
  #last: string | undefined;
  /**
   * Whether the tail has left out an event since `#last` (see `#skip`): its own position is then
   * past `#last`, and what follows `#last` is not all coming through the feed.
   */
  #skipped = false;
  /** Watches by cursor (see `watch`); usually empty. */
  readonly #watches = new Map<string, Set<Watch>>();
  /** Watches whose `from` the next delivered event sets. */
  readonly #unanchored = new Set<Watch>();
  #running: Promise<void>;
  #isReady = false;
  /** The last failure of the feed (a read or the tail), cleared when it delivers again. */
  #lastError: unknown;
  /** Delivery time minus `time` of the last event it delivered (includes clock skew between processes). */
  #lagMs: number | undefined;
  #ready!: Promise<void>;
  #resolveReady!: () => void;

  constructor(options: LiveFeedOptions) {
    this.#options = options;
    this.#armReady();
    this.#running = this.#run();
  }

  /**
   * Resolves once the feed is positioned, or once it closed without being positioned (then
   * `isReady` is false). After the feed lost its place, a new promise, until it is placed again.
   */
  get ready(): Promise<void> {
    return this.#ready;
  }

  #armReady(): void {
    this.#ready = new Promise<void>((resolve) => {
      this.#resolveReady = resolve;
    });
  }

  #positioned(): void {
    if (this.#isReady) return;
    this.#isReady = true;
    this.#resolveReady();
  }

  /**
   * Registers a wait for events about to be appended, by id: call it before the append, then
   * `settle` the wait with the append's results (or `cancel` it if the append fails).
   */
  expect(events: readonly { id: string }[]): PublishWait {
    const wait = new PublishWait(
      events.map((event) => event.id),
      (done) => this.#unregister(done),
    );
    for (const id of wait.ids) {
      const current = this.#waiting.get(id);
      if (current === undefined) this.#waiting.set(id, wait);
      else if (Array.isArray(current)) current.push(wait);
      else if (current !== wait) this.#waiting.set(id, [current, wait]);
    }
    return wait;
  }

  /**
   * Watches for the event at `cursor` to be delivered from now on, and notes where the feed is
   * (`from`). A catch-up whose read after `cursor` comes back truncated, while the feed delivered
   * that very event after the catch-up began, or was at or before it then (and has not lost its
   * place since), holds every event after it: nothing is lost. The feed's `#last` is where it is
   * only while its tail has left nothing out after it (simulation seeds 187303 and 81661; seed
   * 3327 is one where the tail had left an event out).
   */
  watch(cursor: string): CursorWatch {
    let set = this.#watches.get(cursor);
    if (set === undefined) {
      set = new Set();
      this.#watches.set(cursor, set);
    }
    const watches = this.#watches;
    const unanchored = this.#unanchored;
    const watch: Watch = {
      cursor,
      seen: false,
      lost: false,
      // 'start' (a feed placed with no cursor) is not a cursor: the first delivery anchors it.
      from: this.#skipped || this.#last === 'start' ? undefined : this.#last,
      release() {
        set.delete(watch);
        unanchored.delete(watch);
        if (set.size === 0 && watches.get(cursor) === set) watches.delete(cursor);
      },
    };
    set.add(watch);
    if (watch.from === undefined) unanchored.add(watch);
    return watch;
  }

  /** Why the feed is not running, if it failed since it last delivered (for `ready()` errors). */
  get lastError(): unknown {
    return this.#lastError;
  }

  /** How long after its `time` the last delivered event arrived; undefined before the first. */
  get lagMs(): number | undefined {
    return this.#lagMs;
  }

  /** True once the feed has been positioned (checked without awaiting `ready`). */
  get isReady(): boolean {
    return this.#isReady;
  }

  async close(): Promise<void> {
    this.#abort.abort();
    await this.#running;
    for (const waits of [...this.#waiting.values()]) {
      for (const wait of Array.isArray(waits) ? [...waits] : [waits]) wait.cancel();
    }
    this.#waiting.clear();
  }

  async #run(): Promise<void> {
    const { store, report } = this.#options;
    const signal = this.#abort.signal;
    /** Where the feed was when it lost its place, and what to call once it is placed again. */
    let lost: { position: string; placed: (position: string) => void } | undefined;
    while (!signal.aborted) {
      try {
        if (this.#last === undefined) this.#last = await newestCursor(store);
        if (lost !== undefined) {
          // Placed again at the newest event, and nothing newer delivered yet: the subscribers now
          // read what they missed up to here (and beyond) from the store, and take the events the
          // tail brings as a replay takes live ones. Done earlier, what is appended until the feed
          // is placed again would reach nobody.
          lost.placed(lost.position);
          lost = undefined;
        }
        // A tail (re)started at `#last` reads again what an earlier one left out after it.
        this.#skipped = false;
        const feed = store.tail(this.#last, signal, { skip: this.#skip });
        this.#positioned();
        this.#lastError = undefined;
        for await (const event of feed) this.#deliver(event);
      } catch (error) {
        if (signal.aborted) break;
        this.#lastError = error;
        if ((error as { code?: unknown } | null)?.code === 'CLOSED') {
          // The store (or the client under it) is closed for good: a retry every 250 ms would
          // fail forever and keep the process alive. Report it once and wait for the bus to close.
          report(error);
          await untilAborted(signal);
          break;
        }
        if ((error as { code?: unknown }).code === 'HISTORY_TRUNCATED' && this.#last !== undefined) {
          // Retrying after the same cursor would fail forever: place the feed again at the newest
          // event. Until then the bus is not connected (`ready` waits again, from before the report).
          if (this.#isReady) {
            this.#isReady = false;
            this.#armReady();
          }
          lost ??= { position: this.#last, placed: this.#options.lostHistory(error) };
          this.#last = undefined;
          for (const set of this.#watches.values()) for (const watch of set) watch.lost = true;
          this.#unanchored.clear();
        }
        report(error);
        await abortableSleep(this.#options.retryMs ?? 250, signal);
      }
    }
    // A bus closed before positioning must not leave `ready` hanging; `isReady` stays false.
    this.#resolveReady();
  }

  #deliver(event: StoredEvent): void {
    this.#last = event.cursor;
    this.#skipped = false;
    if (this.#watches.size > 0) {
      const set = this.#watches.get(event.cursor);
      if (set !== undefined) for (const watch of set) watch.seen = true;
      if (this.#unanchored.size > 0) {
        for (const watch of this.#unanchored) watch.from = event.cursor;
        this.#unanchored.clear();
      }
    }
    this.#lagMs = this.#options.clock() - event.time;
    const deliveredTo = this.#options.dispatch(event);
    const waits = this.#waiting.get(event.id);
    if (waits !== undefined) this.#settle(waits, event.id, event.cursor, deliveredTo);
  }

  /** Tells the publishes waiting for event `id` that it came through at `cursor`. */
  #settle(waits: PublishWait | PublishWait[], id: string, cursor: string, deliveredTo: number): void {
    if (Array.isArray(waits)) for (const wait of [...waits]) wait.seen(id, cursor, deliveredTo);
    else waits.seen(id, cursor, deliveredTo);
  }

  #unregister(wait: PublishWait): void {
    for (const id of wait.ids) {
      const current = this.#waiting.get(id);
      if (current === wait) this.#waiting.delete(id);
      else if (Array.isArray(current)) {
        const rest = current.filter((other) => other !== wait);
        if (rest.length === 0) this.#waiting.delete(id);
        else this.#waiting.set(id, rest.length === 1 ? rest[0]! : rest);
      }
    }
  }
}

/**
 * The newest cursor in the store; when it holds no event, its `head` (a cursor for its end,
 * which lets a tail that lost its connection tell whether retention passed it), else 'start'.
 * A store with a scan budget may
 * answer a page with no events and a `next` (entries that are not events at the head of its
 * log): follow it rather than take the store for empty and replay the whole log live.
 */
async function newestCursor(store: EventStore): Promise<string> {
  let page = await store.read({ direction: 'backward', limit: 1 });
  for (let pages = 1; page.events.length === 0 && page.next !== undefined && pages < 100; pages++)
    page = await store.read({ direction: 'backward', limit: 1, after: page.next });
  // Still nothing after 100 budgets' worth of non-events: the next page's cursor is a place too.
  return page.events[0]?.cursor ?? page.next ?? page.head ?? 'start';
}

/** Resolves when `signal` aborts; holds no timer, so it keeps no process alive. */
function untilAborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

/** CursorWatch as the feed holds it: it sets `seen`, `lost` and `from`. */
type Watch = { -readonly [K in keyof CursorWatch]: CursorWatch[K] };
