/**
 * `bus.stats()`: what it reports, and the part it counts by walking the subscriptions (the
 * bus's own counters are read directly in EventBus#stats).
 */
import type { DeduplicatorStats } from '../dedup/deduplicator.js';
import type { RateLimiterStats } from '../limit/rate-limiter.js';
import type { SubscriptionIndex } from '../pattern/subscription-index.js';
import type { EventSink, Subscriber } from '../subscription/subscriber.js';

export interface BusStats {
  published: number;
  /** Deliveries: one per (event, user subscription reached). */
  delivered: number;
  duplicates: number;
  /** Events refused by the rate limiter, whatever `onLimit` says (drop, throw, delay past its bound). */
  rateLimited: number;
  /** Events discarded by explicit overflow policies (never by a catch-up). */
  dropped: number;
  /** Handler and filter failures reported to `onError`. */
  handlerErrors: number;
  /** Async handler calls running or queued, and handler catch-ups reading the store. */
  pendingHandlers: number;
  /** User subscriptions (`on`, `once`, `subscribe`); the bus's own watchers are not counted. */
  subscriptions: number;
  /**
   * Events waiting in iterator buffers and `on()` handler queues for their reader or handler,
   * and live events held by subscriptions reading the store (each bounded; see docs/guarantees.md).
   */
  buffered: number;
  /** Subscriptions reading the store now: replaying (`from`) or catching up after falling behind. */
  catchingUp: number;
  /**
   * Catch-up lag, in events: summed over the subscriptions catching up, the events each is
   * known to be behind (those published since it fell behind, less those it has taken since).
   * A lower bound during a replay, whose older history is not counted.
   */
  catchUpLag: number;
  /** Subscribers per pattern, most subscribed first. */
  patterns: { pattern: string; subscribers: number }[];
  /** Publish counts of the busiest streams (at most 100), busiest first. */
  streams: { stream: string; published: number }[];
  /** The deduplicator's numbers (`null` with `dedup: false`). */
  dedup: DeduplicatorStats | null;
  /** The rate limiter's numbers, busiest keys included (`null` without a limiter). */
  rateLimit: RateLimiterStats | null;
}

/** The user subscriptions' share of BusStats: the bus's own watchers (weight 0) are not counted. */
export function subscriptionStats(
  index: SubscriptionIndex<Subscriber>,
): Pick<BusStats, 'subscriptions' | 'buffered' | 'catchingUp' | 'catchUpLag' | 'patterns'> {
  const patterns = new Map<string, number>();
  let subscriptions = 0;
  let buffered = 0;
  let catchingUp = 0;
  let catchUpLag = 0;
  const sinks = new Set<EventSink>();
  index.forEach((s) => {
    if (s.weight === 0) return;
    subscriptions++;
    // A subscription with several patterns is visited once per pattern: count its sink once.
    if (s.sink !== undefined && !sinks.has(s.sink)) {
      sinks.add(s.sink);
      buffered += s.sink.held;
      if (s.sink.catchingUp === true) catchingUp++;
      catchUpLag += s.sink.behind ?? 0;
    }
    for (const p of s.patterns) patterns.set(p.source, (patterns.get(p.source) ?? 0) + 1);
  });
  return {
    subscriptions,
    buffered,
    catchingUp,
    catchUpLag,
    patterns: [...patterns]
      .sort((a, b) => b[1] - a[1])
      .map(([pattern, subscribers]) => ({ pattern, subscribers })),
  };
}
