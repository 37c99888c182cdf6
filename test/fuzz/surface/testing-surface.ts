// `busline/testing`: the fake clock and the event recorder, every argument fuzzed.
import { EventBus } from '../../../src/index.js';
import type * as testing from '../../../src/testing/index.js';
import { createFakeClock, recordEvents } from '../../../src/testing/index.js';
import { fuzzInputs, type SurfaceCase } from './input-fuzz.js';

export const testingSurface: Record<keyof typeof testing, SurfaceCase> = {
  createFakeClock: {
    fuzz: {
      call: () =>
        fuzzInputs({
          inputs: ['start', 'ms', 'epochMs'],
          valid: { ms: 1, epochMs: 0 },
          call: (v) => {
            const clock = createFakeClock(v.start as never);
            clock.now();
            clock.advance(v.ms as never);
            clock.set(v.epochMs as never);
            return clock.now();
          },
        }),
    },
  },
  recordEvents: {
    fuzz: {
      call: async () => {
        const bus = new EventBus({ onError: () => {} });
        try {
          await fuzzInputs({
            inputs: ['bus', 'pattern', 'options', 'count', 'waitOptions'],
            valid: { bus, pattern: 'a.*', count: 1, waitOptions: { timeoutMs: 50 } },
            patternInputs: ['pattern'],
            // A count of events that never come waits for timeoutMs (5 s by default): pending is fine.
            mayPend: true,
            waitMs: 5,
            aliases: {
              options: ['options', 'stream', 'filter', 'signal', 'concurrency', 'maxPending'],
              waitOptions: ['options', 'timeoutMs'],
            },
            call: async (v) => {
              const recorder = recordEvents(v.bus as never, v.pattern as never, v.options as never);
              try {
                await bus.publish({ type: 'a.b', data: 1 });
                return await recorder.waitFor(v.count as never, v.waitOptions as never);
              } finally {
                recorder.stop();
              }
            },
          });
          await fuzzInputs({
            inputs: ['timeoutMs'],
            // Waiting for events that never come is what waitFor does: bounded by timeoutMs.
            mayPend: true,
            waitMs: 5,
            call: (v) => {
              const recorder = recordEvents(bus, 'never.published');
              return recorder.waitFor(1, v).finally(() => recorder.stop());
            },
          });
        } finally {
          await bus.close({ timeoutMs: 100 });
        }
      },
    },
  },
  describeEventStore: {
    excluded: 'registers vitest suites (describe/it) when called: it cannot run inside a test',
  },
};
