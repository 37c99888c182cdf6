/**
 * A real OpenTelemetry SDK for the busline/otel tests: a tracer provider that keeps finished
 * spans in memory (InMemorySpanExporter), a meter provider read on demand (a pull MetricReader,
 * as a Prometheus exporter is), and the AsyncLocalStorage context manager a Node app registers.
 */
import { context, type HrTime } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  type DataPoint,
  type Histogram,
  MeterProvider,
  type MetricData,
  MetricReader,
} from '@opentelemetry/sdk-metrics';
import {
  AlwaysOffSampler,
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';

/** The context manager is global in the API: registered once per test file, kept for its tests. */
export function useAsyncContext(): void {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
}

/** A reader the test collects from when it likes. */
class PullReader extends MetricReader {
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

export function createSdk(options: { sampled?: boolean } = {}) {
  const exporter = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({
    spanProcessors: [new SimpleSpanProcessor(exporter)],
    ...(options.sampled === false ? { sampler: new AlwaysOffSampler() } : {}),
  });
  const reader = new PullReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  return {
    tracerProvider,
    meterProvider,
    spans: (): ReadableSpan[] => exporter.getFinishedSpans(),
    /** The spans named `name`, in the order they ended. */
    named: (name: string): ReadableSpan[] => exporter.getFinishedSpans().filter((span) => span.name === name),
    /** Every metric collected now, by name. */
    async metrics(): Promise<Map<string, MetricData>> {
      const { resourceMetrics } = await reader.collect();
      const byName = new Map<string, MetricData>();
      for (const scope of resourceMetrics.scopeMetrics)
        for (const metric of scope.metrics) byName.set(metric.descriptor.name, metric);
      return byName;
    },
    async shutdown(): Promise<void> {
      await Promise.all([tracerProvider.shutdown(), meterProvider.shutdown()]);
    },
  };
}

export type Sdk = ReturnType<typeof createSdk>;

/** A counter's or gauge's data points as `[attributes, value]`. */
export function points(metric: MetricData | undefined): [Record<string, unknown>, number][] {
  return ((metric?.dataPoints ?? []) as DataPoint<number>[]).map((p) => [p.attributes, p.value]);
}

/** A histogram's data points as `[attributes, count, sum]`. */
export function histogramPoints(metric: MetricData | undefined): [Record<string, unknown>, number, number][] {
  return ((metric?.dataPoints ?? []) as DataPoint<Histogram>[]).map((p) => [
    p.attributes,
    p.value.count,
    p.value.sum ?? 0,
  ]);
}

export function millis(time: HrTime): number {
  return time[0] * 1000 + time[1] / 1e6;
}
