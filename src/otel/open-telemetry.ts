/**
 * `openTelemetry()`: the bus's telemetry port (src/telemetry/bus-telemetry.ts) implemented with
 * @opentelemetry/api alone. The SDK, exporters and context manager are the application's.
 */
import {
  type Meter,
  type MeterProvider,
  metrics,
  type Tracer,
  type TracerProvider,
  trace,
} from '@opentelemetry/api';
import { InvalidOptionError } from '../errors.js';
import { describe } from '../event.js';
import { optionsObject } from '../option-checks.js';
import type { BusTelemetry } from '../telemetry/bus-telemetry.js';
import { BusGauges } from './bus-gauges.js';
import { CreationContexts } from './creation-contexts.js';
import { MessagingAttributes } from './messaging-attributes.js';
import { MessagingMetrics } from './messaging-metrics.js';
import { ProcessTracing } from './process-tracing.js';
import { PublishTracing } from './publish-tracing.js';
import { SCHEMA_URL } from './semconv.js';

export interface OpenTelemetryOptions {
  /**
   * Where spans go. @default the global provider (`trace.getTracerProvider()`), read lazily: one
   * registered after this call is used too.
   */
  tracerProvider?: TracerProvider;
  /**
   * Where metrics go. @default the global provider (`metrics.getMeterProvider()`) as registered
   * when this is called: register it first.
   */
  meterProvider?: MeterProvider;
}

/** The instrumentation scope: the tracer's and the meter's name. */
const SCOPE = 'busline';

/**
 * Traces and measures a bus with OpenTelemetry: `new EventBus({ telemetry: openTelemetry() })`.
 * Spans and metrics follow the messaging semantic conventions v1.44.0 (docs/observability.md).
 */
export function openTelemetry(options?: OpenTelemetryOptions): BusTelemetry {
  const { tracerProvider, meterProvider } = optionsObject('openTelemetry', options);
  const tracer = tracerOf(tracerProvider);
  const meter = meterOf(meterProvider);
  const attributes = new MessagingAttributes();
  const parts = {
    tracer,
    attributes,
    metrics: new MessagingMetrics(meter),
    contexts: new CreationContexts(),
  };
  const gauges = new BusGauges(meter);
  return Object.freeze({
    publish: ({ batch }: { batch: boolean }) => new PublishTracing(parts, batch),
    process: (start) => new ProcessTracing(parts, start),
    attach: (source) => gauges.attach(source),
  } satisfies BusTelemetry);
}

function tracerOf(provider: unknown): Tracer {
  // The global provider is a proxy: its tracer follows a provider registered later.
  const tracer = fromProvider(provider ?? trace.getTracerProvider(), 'tracerProvider', 'getTracer');
  if (typeof (tracer as Partial<Tracer> | null)?.startSpan !== 'function')
    throw new InvalidOptionError('Expected `tracerProvider.getTracer()` to return a Tracer');
  return tracer as Tracer;
}

function meterOf(provider: unknown): Meter {
  const meter = fromProvider(provider ?? metrics.getMeterProvider(), 'meterProvider', 'getMeter');
  const methods = ['createCounter', 'createHistogram', 'addBatchObservableCallback'] as const;
  if (methods.some((method) => typeof (meter as Partial<Meter> | null)?.[method] !== 'function'))
    throw new InvalidOptionError('Expected `meterProvider.getMeter()` to return a Meter');
  return meter as Meter;
}

/** `provider[method](SCOPE)`, once the provider is known to have that method. */
function fromProvider(provider: unknown, name: string, method: 'getTracer' | 'getMeter'): unknown {
  const get =
    provider !== null && typeof provider === 'object'
      ? (provider as Record<string, unknown>)[method]
      : undefined;
  if (typeof get !== 'function') {
    throw new InvalidOptionError(
      `Expected \`${name}\` to be an OpenTelemetry provider (an object with ${method}()), got ${describe(provider)}`,
    );
  }
  return get.call(provider, SCOPE, undefined, { schemaUrl: SCHEMA_URL });
}
