// `busline/otel`: openTelemetry's options fuzzed, and a traced bus fed any trace context in meta
// (what another process may have written): typed errors or results, never a crash.
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { EventBus } from '../../../src/index.js';
import type * as otel from '../../../src/otel/index.js';
import { openTelemetry } from '../../../src/otel/index.js';
import { fuzzInputs, type SurfaceCase } from './input-fuzz.js';

const tracerProvider = new BasicTracerProvider();

export const otelSurface: Record<keyof typeof otel, SurfaceCase> = {
  openTelemetry: {
    fuzz: {
      call: async () => {
        await fuzzInputs({
          inputs: ['options'],
          aliases: { options: ['openTelemetry options'] },
          call: (v) => openTelemetry(v.options as never),
        });
        await fuzzInputs({
          inputs: ['tracerProvider', 'meterProvider'],
          valid: { tracerProvider },
          call: (v) => openTelemetry(v),
        });
        const bus = new EventBus({ telemetry: openTelemetry({ tracerProvider }), onError: () => {} });
        bus.on('**', () => {});
        try {
          await fuzzInputs({
            inputs: ['traceparent', 'tracestate', 'type'],
            valid: { type: 'a.b' },
            call: async (v) => {
              const meta: Record<string, unknown> = {};
              if (v.traceparent !== undefined) meta.traceparent = v.traceparent;
              if (v.tracestate !== undefined) meta.tracestate = v.tracestate;
              await bus.publish({ type: v.type as never, data: 1, meta: meta as never });
              await bus.publishBatch([{ type: 'a.b', data: 1, meta: meta as never }]);
            },
            aliases: { traceparent: ['meta'], tracestate: ['meta'] },
            patternInputs: ['type'],
          });
        } finally {
          await bus.close({ timeoutMs: 100 });
        }
      },
    },
  },
};
