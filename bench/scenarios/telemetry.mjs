// What tracing costs a publish: one `job.created` handler on a pure bus, without telemetry,
// with a telemetry whose hooks do nothing (the port's own cost), and with busline/otel on an
// OpenTelemetry SDK tracer provider, every span sampled (and exported to an exporter that
// drops them) or none sampled. The port's cost when absent is measured against the build
// before it existed with bench/ab.mjs (see docs/benchmarks.md).

import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BasicTracerProvider,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { measure } from '../harness.mjs';
import { BATCH, batchedPublish, delivered } from './shared.mjs';

const DATA = { jobId: 42, name: 'render', attempts: 1 };
const NONE = 'busline publish, no telemetry';

/** A telemetry whose every hook runs and does nothing: the bus's side of the port. */
const idle = {
  publish: () => ({ inject: () => undefined, end: () => {} }),
  process: () => ({ run: (call) => call(), end: () => {} }),
};

/** An exporter that drops every span: the SDK's span work is measured, not an export's. */
const dropping = {
  export: (_spans, done) => done({ code: 0 }),
  shutdown: () => Promise.resolve(),
  forceFlush: () => Promise.resolve(),
};

function provider(sampler) {
  return new BasicTracerProvider({ sampler, spanProcessors: [new SimpleSpanProcessor(dropping)] });
}

export async function run({ busline }) {
  const { EventBus } = busline;
  const { openTelemetry } = await import('../../dist/otel.js');
  const contender = (name, telemetry) => ({
    name,
    step: BATCH,
    loop: batchedPublish,
    check: delivered,
    setup() {
      const bus = new EventBus({
        store: null,
        dedup: false,
        ...(telemetry ? { telemetry: telemetry() } : {}),
      });
      const ctx = { bus, event: { type: 'job.created', data: DATA }, ps: new Array(BATCH), count: 0 };
      bus.on('job.created', () => {
        ctx.count++;
      });
      return ctx;
    },
  });
  const rows = await measure([
    contender(NONE),
    contender('telemetry with idle hooks (the port alone)', () => idle),
    contender('busline/otel, no span sampled (AlwaysOffSampler)', () =>
      openTelemetry({ tracerProvider: provider(new AlwaysOffSampler()) }),
    ),
    contender('busline/otel, every span sampled (publish + process)', () =>
      openTelemetry({ tracerProvider: provider(new AlwaysOnSampler()) }),
    ),
  ]);
  return {
    title: 'Telemetry',
    summary: 'one `job.created` handler on a pure bus; a publish with and without telemetry.',
    description: [
      'The same publish loop as "One exact-type subscriber", on buses that differ only in `telemetry`:',
      'none; an object whose hooks do nothing (what the bus itself does for the port: a scope per',
      'publish, one per handler call); `openTelemetry()` from busline/otel on an OpenTelemetry SDK',
      '`BasicTracerProvider` whose sampler drops every span, or keeps every span (a PRODUCER span per',
      'publish, a CONSUMER span per handler call, the trace context injected into `meta`), with a',
      'span processor whose exporter drops what it is given. Without `telemetry` the bus makes no call and',
      'no allocation for it. Against the build before the port existed, a publish without telemetry costs the same: callgrind counted 4,067 and 4,042 instructions per publish before, 3,962 and 4,008 after (`node --single-threaded`, one handler); `bench/ab.mjs <before> <after>` times the same A/B on the clock (docs/observability.md, "What it costs").',
    ].join(' '),
    tables: [{ rows, baseline: NONE, ratioLabel: 'speed vs no telemetry', speedVsBaseline: true }],
    targets: [],
  };
}
