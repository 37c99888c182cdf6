/**
 * The names busline/otel emits: OpenTelemetry semantic conventions v1.44.0 (messaging spans and
 * metrics, still "Development" there), and busline's own attributes, which the conventions
 * require to live in the system's namespace, `messaging.busline.*`. Spelled out here rather
 * than imported from @opentelemetry/semantic-conventions: its incubating names are not a stable
 * export, and only @opentelemetry/api may be needed at run time.
 */

/** The conventions version followed; also the tracer's and meter's schema URL. */
export const SEMCONV_VERSION = '1.44.0';
export const SCHEMA_URL = `https://opentelemetry.io/schemas/${SEMCONV_VERSION}`;

/** `messaging.system`: a custom value, as the conventions allow for systems they do not list. */
export const SYSTEM = 'busline';

export const ATTR = {
  system: 'messaging.system',
  destination: 'messaging.destination.name',
  messageId: 'messaging.message.id',
  operationType: 'messaging.operation.type',
  operationName: 'messaging.operation.name',
  batchCount: 'messaging.batch.message_count',
  group: 'messaging.consumer.group.name',
  errorType: 'error.type',
  /** The event's stream: a partition key across types, which `messaging.destination.partition.id` (within one destination) is not. */
  stream: 'messaging.busline.stream',
  /** The subscription's patterns, for an `on()` handler. */
  patterns: 'messaging.busline.subscription.patterns',
  /** This delivery's number to its consumer group, the first is 1. */
  deliveryCount: 'messaging.busline.message.delivery_count',
  /** What becomes of a group delivery: `ack`, `retry` or `dead_letter`. */
  disposition: 'messaging.busline.message.disposition',
  /** How a single publish resolved: `delivered`, `duplicate` or `rate_limited`. */
  publishStatus: 'messaging.busline.publish.status',
} as const;

/** `messaging.operation.type` values, and the operation names busline gives them. */
export const OPERATION = {
  create: { type: 'create', name: 'create' },
  send: { type: 'send', name: 'publish' },
  process: { type: 'process', name: 'process' },
} as const;

/** The conventions' advised buckets for `messaging.process.duration`, in seconds. */
export const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];
