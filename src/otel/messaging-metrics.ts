/**
 * The conventions' messaging metrics: `messaging.client.sent.messages` (per event a publish
 * tried to store and deliver), `messaging.client.consumed.messages` (per handler call or group
 * delivery, counted when it is dispatched) and `messaging.process.duration` (per call, seconds).
 * Their attributes are the operation's shared set (MessagingAttributes), plus `error.type`.
 */
import type { Attributes, Counter, Histogram, Meter } from '@opentelemetry/api';
import { ATTR, DURATION_BUCKETS } from './semconv.js';

export class MessagingMetrics {
  readonly #sent: Counter;
  readonly #consumed: Counter;
  readonly #duration: Histogram;

  constructor(meter: Meter) {
    this.#sent = meter.createCounter('messaging.client.sent.messages', {
      description: 'Number of messages producer attempted to send to the broker.',
      unit: '{message}',
    });
    this.#consumed = meter.createCounter('messaging.client.consumed.messages', {
      description: 'Number of messages that were delivered to the application.',
      unit: '{message}',
    });
    this.#duration = meter.createHistogram('messaging.process.duration', {
      description: 'Duration of processing operation.',
      unit: 's',
      advice: { explicitBucketBoundaries: DURATION_BUCKETS },
    });
  }

  /** One event of a publish was stored and delivered, refused, or (with `errorType`) failed. */
  sent(attributes: Attributes, errorType?: string): void {
    this.#sent.add(1, withError(attributes, errorType));
  }

  consumed(attributes: Attributes): void {
    this.#consumed.add(1, attributes);
  }

  processed(attributes: Attributes, seconds: number, errorType?: string): void {
    this.#duration.record(seconds, withError(attributes, errorType));
  }
}

function withError(attributes: Attributes, errorType: string | undefined): Attributes {
  return errorType === undefined ? attributes : { ...attributes, [ATTR.errorType]: errorType };
}
