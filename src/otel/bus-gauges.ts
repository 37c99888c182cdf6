/**
 * busline's own metrics, `busline.*`: observable instruments read from `bus.stats()` (and, for
 * consumer groups and the shared feed, `bus.health()`) when the meter collects, never on the
 * publish path. Several buses attached to one `openTelemetry()` are summed (the numbers
 * describe the process); a bus is let go once it has closed.
 */
import type { BatchObservableResult, Meter, Observable } from '@opentelemetry/api';
import type { BusHealth } from '../bus/bus-health.js';
import type { BusStats } from '../bus/bus-stats.js';
import type { TelemetrySource } from '../telemetry/bus-telemetry.js';

interface Gauge {
  name: string;
  /** `counter`: only grows (cumulative); `updown`: a current level. */
  kind: 'counter' | 'updown';
  unit: string;
  description: string;
  read: (stats: BusStats) => number;
}

export const BUS_GAUGES: readonly Gauge[] = [
  {
    name: 'busline.events.published',
    kind: 'counter',
    unit: '{event}',
    description: 'Events published (stored and delivered).',
    read: (s) => s.published,
  },
  {
    name: 'busline.deliveries',
    kind: 'counter',
    unit: '{delivery}',
    description: 'Deliveries: one per event and subscription it reached.',
    read: (s) => s.delivered,
  },
  {
    name: 'busline.events.duplicate',
    kind: 'counter',
    unit: '{event}',
    description: 'Publishes refused as duplicates of an id already published.',
    read: (s) => s.duplicates,
  },
  {
    name: 'busline.events.rate_limited',
    kind: 'counter',
    unit: '{event}',
    description: 'Publishes refused by the rate limiter.',
    read: (s) => s.rateLimited,
  },
  {
    name: 'busline.events.dropped',
    kind: 'counter',
    unit: '{event}',
    description: 'Events discarded by subscription overflow policies.',
    read: (s) => s.dropped,
  },
  {
    name: 'busline.handler.errors',
    kind: 'counter',
    unit: '{error}',
    description: 'Handler and filter failures reported to onError.',
    read: (s) => s.handlerErrors,
  },
  {
    name: 'busline.handler.pending',
    kind: 'updown',
    unit: '{call}',
    description: 'Async handler calls running or queued, and handler catch-ups reading the store.',
    read: (s) => s.pendingHandlers,
  },
  {
    name: 'busline.subscription.count',
    kind: 'updown',
    unit: '{subscription}',
    description: 'User subscriptions (on, once, subscribe).',
    read: (s) => s.subscriptions,
  },
  {
    name: 'busline.subscription.buffered',
    kind: 'updown',
    unit: '{event}',
    description:
      'Events waiting in subscription buffers and handler queues, and live events held during catch-ups.',
    read: (s) => s.buffered,
  },
  {
    name: 'busline.subscription.catching_up',
    kind: 'updown',
    unit: '{subscription}',
    description: 'Subscriptions reading the store: replaying, or catching up after falling behind.',
    read: (s) => s.catchingUp,
  },
  {
    name: 'busline.subscription.catch_up.lag',
    kind: 'updown',
    unit: '{event}',
    description:
      'Events the subscriptions catching up are known to be behind: published since they fell behind, less those taken since.',
    read: (s) => s.catchUpLag,
  },
];

export class BusGauges {
  readonly #meter: Meter;
  readonly #sources = new Set<TelemetrySource>();
  #observing = false;

  constructor(meter: Meter) {
    this.#meter = meter;
  }

  /** Observes `source` until the returned function is called (the bus calls it once closed). */
  attach(source: TelemetrySource): () => void {
    this.#sources.add(source);
    if (!this.#observing) {
      this.#observe();
      this.#observeHealth();
    }
    this.#observing = true;
    return () => {
      this.#sources.delete(source);
    };
  }

  /**
   * Per consumer group (`messaging.consumer.group.name`): pending and dead-letter counts; and
   * the shared feed's lag, the largest of the buses'. Read through `health()`, which asks the
   * store, so only when the meter collects.
   */
  #observeHealth(): void {
    const meter = this.#meter;
    const pending = meter.createObservableUpDownCounter('busline.group.pending', {
      unit: '{event}',
      description:
        "A consumer group's events not yet acknowledged: being handled, waiting for a retry or a consumer.",
    });
    const dead = meter.createObservableUpDownCounter('busline.group.dead_letters', {
      unit: '{event}',
      description: "Events in a consumer group's dead letters.",
    });
    const lag = meter.createObservableGauge('busline.feed.lag', {
      unit: 'ms',
      description:
        "How long after its time the last event a shared store's live feed delivered arrived (clock skew included).",
    });
    meter.addBatchObservableCallback(
      async (result: BatchObservableResult) => {
        const healths = await Promise.all(
          [...this.#sources].map((source) => source.health().catch((): BusHealth | undefined => undefined)),
        );
        const groups = new Map<string, { pending: number; dead?: number }>();
        let feedLag: number | undefined;
        for (const health of healths) {
          if (health === undefined) continue;
          if (health.feed?.lagMs !== undefined) feedLag = Math.max(feedLag ?? 0, health.feed.lagMs);
          for (const group of health.groups) {
            // Pending and dead letters belong to the group, not the bus: take one bus's view.
            const seen = groups.get(group.group);
            groups.set(group.group, {
              pending: Math.max(seen?.pending ?? 0, group.pending),
              dead: group.deadLetters ?? seen?.dead,
            });
          }
        }
        for (const [name, { pending: count, dead: letters }] of groups) {
          const attributes = { 'messaging.consumer.group.name': name };
          result.observe(pending, count, attributes);
          if (letters !== undefined) result.observe(dead, letters, attributes);
        }
        if (feedLag !== undefined) result.observe(lag, feedLag);
      },
      [pending, dead, lag],
    );
  }

  #observe(): void {
    const meter = this.#meter;
    const instruments: [Gauge, Observable][] = BUS_GAUGES.map((gauge) => {
      const options = { unit: gauge.unit, description: gauge.description };
      return [
        gauge,
        gauge.kind === 'counter'
          ? meter.createObservableCounter(gauge.name, options)
          : meter.createObservableUpDownCounter(gauge.name, options),
      ];
    });
    // One callback for all of them: each collection reads every bus's stats() once.
    meter.addBatchObservableCallback(
      (result: BatchObservableResult) => {
        const totals = new Array<number>(instruments.length).fill(0);
        for (const source of this.#sources) {
          const stats = source.stats();
          instruments.forEach(([gauge], i) => {
            totals[i]! += gauge.read(stats);
          });
        }
        instruments.forEach(([, instrument], i) => {
          result.observe(instrument, totals[i]!);
        });
      },
      instruments.map(([, instrument]) => instrument),
    );
  }
}
