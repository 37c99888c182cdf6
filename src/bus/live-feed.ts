import type { StoredEvent } from '../event.js';
import type { EventStore } from '../store/event-store.js';

export interface LiveFeedOptions {
  store: EventStore & Required<Pick<EventStore, 'tail'>>;
  /**
   * Delivers one event to the local subscribers; returns how many it reached, and a promise
   * when `block` subscriptions are full (the feed then waits before reading on).
   */
  dispatch(event: StoredEvent): { deliveredTo: number; backpressure?: Promise<unknown> };
  report(error: unknown): void;
  /**
   * The feed lost its place: the store no longer has what follows its last cursor (Redis
   * came back empty, or trimmed past it). The feed re-positions at the newest event; the
   * bus must tell its subscribers that events may have been missed.
   */
  lostHistory(error: unknown): void;
  /** Wait before restarting a tail that failed. @default 250 */
  retryMs?: number;
}

/** How many recent deliveries are remembered for publishers that ask after the fact. */
const RECENT_DELIVERIES = 4096;

/**
 * With a store shared between processes, every event — local or remote — reaches the local
 * subscribers through one ordered feed: the store's `tail`. That is what makes every process
 * see store order per stream, and a bus never deliver its own event twice.
 *
 * Positioning: the feed reads the newest cursor first and tails strictly after it, so
 * `ready` resolves exactly when "everything published from now on" is covered. A tail that
 * fails is restarted from the last cursor it delivered — unless the store says that history
 * is gone (HISTORY_TRUNCATED): then it re-positions at the newest event and the bus is told
 * (`lostHistory`), never silently resumed at a wrong place.
 */
export class LiveFeed {
  readonly ready: Promise<void>;
  readonly #options: LiveFeedOptions;
  readonly #abort = new AbortController();
  /** Publishers waiting for their own event to come through the feed, by cursor. */
  readonly #waiting = new Map<string, (deliveredTo: number) => void>();
  /** Cursor → subscribers reached, for publishers whose event passed before they asked. */
  readonly #recent = new Map<string, number>();
  #last: string | undefined;
  #running: Promise<void>;
  #isReady = false;

  constructor(options: LiveFeedOptions) {
    this.#options = options;
    let positioned!: () => void;
    this.ready = new Promise<void>((resolve) => {
      positioned = () => {
        this.#isReady = true;
        resolve();
      };
    });
    this.#running = this.#run(positioned);
  }

  /**
   * Resolves with how many local subscribers the event reached once the feed has delivered
   * it, or with `undefined` after `timeoutMs` (the event is stored; it will be delivered when
   * the feed catches up).
   */
  delivered(cursor: string, timeoutMs: number): Promise<number | undefined> {
    const known = this.#recent.get(cursor);
    if (known !== undefined) return Promise.resolve(known);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(cursor);
        resolve(undefined);
      }, timeoutMs);
      this.#waiting.set(cursor, (deliveredTo) => {
        clearTimeout(timer);
        resolve(deliveredTo);
      });
    });
  }

  /** True once `ready` has resolved (checked without awaiting it). */
  get isReady(): boolean {
    return this.#isReady;
  }

  async close(): Promise<void> {
    this.#abort.abort();
    await this.#running;
    for (const resolve of this.#waiting.values()) resolve(0);
    this.#waiting.clear();
  }

  async #run(positioned: () => void): Promise<void> {
    const { store, report } = this.#options;
    const signal = this.#abort.signal;
    while (!signal.aborted) {
      try {
        if (this.#last === undefined) {
          const newest = await store.read({ direction: 'backward', limit: 1 });
          this.#last = newest.events[0]?.cursor ?? 'start';
        }
        const feed = store.tail(this.#last, signal);
        positioned();
        for await (const event of feed) {
          const backpressure = this.#deliver(event);
          if (backpressure !== undefined) await backpressure;
        }
      } catch (error) {
        if (signal.aborted) break;
        report(error);
        if ((error as { code?: unknown }).code === 'HISTORY_TRUNCATED') {
          // Retrying after the same cursor would fail forever: start again from the newest event.
          this.#last = undefined;
          this.#options.lostHistory(error);
        }
        await pause(this.#options.retryMs ?? 250, signal);
      }
    }
    positioned(); // a bus closed before positioning must not leave ready() hanging
  }

  #deliver(event: StoredEvent): Promise<unknown> | undefined {
    this.#last = event.cursor;
    const { deliveredTo, backpressure } = this.#options.dispatch(event);
    const waiter = this.#waiting.get(event.cursor);
    if (waiter !== undefined) {
      this.#waiting.delete(event.cursor);
      waiter(deliveredTo);
    } else {
      if (this.#recent.size >= RECENT_DELIVERIES)
        this.#recent.delete(this.#recent.keys().next().value as string);
      this.#recent.set(event.cursor, deliveredTo);
    }
    return backpressure;
  }
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}
