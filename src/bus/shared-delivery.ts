/**
 * What a bus does only with a store shared between processes (one with `tail`): every event
 * reaches the local subscribers through the store's ordered live feed (LiveFeed), a publish
 * resolves once the feed has brought its events back, and a feed that lost its place sends
 * the subscriptions of that moment to read what they may have missed.
 *
 * Kept out of event-bus.ts so that a bus on the memory store, or on none, does not carry it
 * in its bundle: the bus loads this module the first time it is given such a store (see
 * load-shared-delivery.ts). busline/redis imports it at once, so a Redis bus never waits.
 */
import { ClosedError, StoreUnavailableError } from '../errors.js';
import type { StoredEvent } from '../event.js';
import type { SubscriptionIndex } from '../pattern/subscription-index.js';
import type { PublishResult } from '../publish/publish-result.js';
import type { AppendResult, EventStore } from '../store/event-store.js';
import { CatchUp } from '../subscription/catch-up.js';
import type { Subscriber } from '../subscription/subscriber.js';
import { LiveFeed } from './live-feed.js';
import { registerSharedDelivery } from './load-shared-delivery.js';

export interface SharedDeliveryOptions {
  store: EventStore & Required<Pick<EventStore, 'tail'>>;
  /** The bus's subscribers: who is told when the feed loses its place. */
  index: SubscriptionIndex<Subscriber>;
  /** Delivers one event to the local subscribers; returns how many user subscriptions it reached. */
  deliverLocally(event: StoredEvent): number;
  /** Appends through the store's port (failures typed, as the bus reports them). */
  append(events: StoredEvent[]): Promise<AppendResult[]>;
  /** Counts an appended event and gives it its cursor; the result of a duplicate, else undefined. */
  record(event: StoredEvent, appended: AppendResult | undefined): PublishResult | undefined;
  /** The feed's failures, for `onError`. */
  report(error: unknown): void;
  /** The bus clock (the feed's lag). */
  clock(): number;
  /** How long a publish waits for the feed, and `ready()` by default. */
  feedTimeoutMs: number;
}

export class SharedDelivery {
  readonly feed: LiveFeed;
  readonly #options: SharedDeliveryOptions;

  constructor(options: SharedDeliveryOptions) {
    this.#options = options;
    const { store, index, report, clock } = options;
    this.feed = new LiveFeed({
      store,
      dispatch: (event) => options.deliverLocally(event),
      report,
      lostHistory: () => this.#resyncAfterLoss(),
      wanted: (type) => (index.lookup(type)?.members.length ?? 0) > 0,
      // Read per delivered event: the stamper's tick clock shares one reading among a run's events.
      clock,
    });
  }

  /**
   * The events reach local subscribers when the live feed brings them back, in store order
   * with everyone else's (see LiveFeed). The wait is registered before the append, so the
   * feed can match them whichever reply comes first.
   */
  async publish(events: StoredEvent[], signal: AbortSignal | undefined): Promise<PublishResult[]> {
    await this.positioned(signal);
    signal?.throwIfAborted();
    const wait = this.feed.expect(events);
    let appended: AppendResult[];
    try {
      appended = await this.#options.append(events);
    } catch (error) {
      wait.cancel();
      throw error;
    }
    const results = events.map((event, i) => this.#options.record(event, appended[i]));
    // Stored: an abort now only ends the wait for the feed (the results say what it reached so far).
    const onAbort = (): void => wait.cancel();
    signal?.addEventListener('abort', onAbort, { once: true });
    const reached = await wait.settle(appended, this.#options.feedTimeoutMs);
    signal?.removeEventListener('abort', onAbort);
    return events.map(
      (event, i) =>
        results[i] ?? {
          id: event.id,
          status: 'delivered',
          cursor: appended[i]!.cursor,
          deliveredTo: reached[i] ?? 0,
        },
    );
  }

  /** Waits for the feed to be positioned: bounded by `timeoutMs`, cancellable, ended by close. */
  async positioned(signal: AbortSignal | undefined, timeoutMs = this.#options.feedTimeoutMs): Promise<void> {
    const feed = this.feed;
    if (feed.isReady) return;
    signal?.throwIfAborted();
    let timer: ReturnType<typeof setTimeout> | undefined;
    let onAbort: (() => void) | undefined;
    const outcome = await Promise.race([
      feed.ready.then(() => 'ready' as const),
      new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), timeoutMs);
      }),
      new Promise<'aborted'>((resolve) => {
        onAbort = () => resolve('aborted');
        signal?.addEventListener('abort', onAbort, { once: true });
      }),
    ]);
    clearTimeout(timer);
    if (onAbort !== undefined) signal?.removeEventListener('abort', onAbort);
    if (outcome === 'aborted') throw signal!.reason;
    if (outcome === 'ready' && feed.isReady) return;
    if (outcome === 'ready') throw new ClosedError('The bus closed before its live feed was positioned');
    throw new StoreUnavailableError(
      `The shared store's live feed was not positioned within ${timeoutMs} ms (the store cannot be reached); nothing was published`,
      { cause: feed.lastError },
    );
  }

  /**
   * The feed lost its place. The user subscriptions of this moment will each read what
   * they may have missed from the store, after the feed's last position, once the feed is
   * placed again (the returned function); only one whose events are gone is told (truncation).
   * A plain handler gets a queue and a catch-up for this (its calls then go through the queue).
   * Subscriptions made meanwhile start at the feed's new place, like ones made before `ready()`.
   * The bus's own watchers (consumer-group wake-ups), also ones added meanwhile, are woken once
   * the feed is placed again: a group reads from its own cursor, and an event the feed skipped
   * must not wait in the store for the next one.
   */
  #resyncAfterLoss(): (position: string) => void {
    const { index } = this.#options;
    const affected: Subscriber[] = [];
    index.forEach((s) => {
      if (s.weight === 1) affected.push(s);
    });
    return (position) => {
      for (const s of affected) {
        if (!s.active) continue;
        if (s.sink === undefined && s.canQueue) s.becomeAsync();
        if (s.sink instanceof CatchUp) s.sink.resync(position);
      }
      const watchers: (() => void)[] = [];
      index.forEach((s) => {
        // A watcher's handler is a wake-up that reads nothing from the event.
        if (s.weight === 0) watchers.push(s.handler as () => void);
      });
      for (const wake of watchers) wake();
    };
  }
}

registerSharedDelivery(SharedDelivery);
