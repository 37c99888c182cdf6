import { metrics, trace } from '@opentelemetry/api';
import { afterAll, describe, expect, it } from 'vitest';
import { EventBus, InvalidOptionError } from '../../src/index.js';
import { openTelemetry } from '../../src/otel/index.js';
import { createSdk } from './otel-sdk.js';

describe('openTelemetry options', () => {
  it.each([
    ['options', 5, /openTelemetry options/],
    ['tracerProvider', { tracerProvider: {} }, /`tracerProvider`.*getTracer/],
    ['meterProvider', { meterProvider: 'global' }, /`meterProvider`.*getMeter/],
    ['a provider whose getTracer returns no tracer', { tracerProvider: { getTracer: () => null } }, /Tracer/],
  ])('refuses a bad %s with an InvalidOptionError naming it', (_, options, message) => {
    expect(() => openTelemetry(options as never)).toThrow(InvalidOptionError);
    expect(() => openTelemetry(options as never)).toThrow(message);
  });

  describe('without providers', () => {
    const sdk = createSdk();
    afterAll(async () => {
      trace.disable();
      metrics.disable();
      await sdk.shutdown();
    });

    it('uses the global ones; a tracer provider registered later is followed', async () => {
      metrics.setGlobalMeterProvider(sdk.meterProvider);
      const telemetry = openTelemetry();
      trace.setGlobalTracerProvider(sdk.tracerProvider);
      const bus = new EventBus({ telemetry });
      await bus.publish({ type: 'a', data: 1 });
      await bus.close();
      expect(sdk.named('publish a')).toHaveLength(1);
      expect((await sdk.metrics()).has('messaging.client.sent.messages')).toBe(true);
    });
  });
});
