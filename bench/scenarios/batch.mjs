// Scenario 7: publishBatch of 1,000 events against a loop of 1,000 single publishes (both
// awaited), pure mode, one exact-type subscriber. No target: the issue asks for the rate.

import { measure } from '../harness.mjs';
import { row } from '../report.mjs';
import { BATCH } from './shared.mjs';

const TYPE = 'job.created';

export async function run({ busline }) {
  const { EventBus } = busline;
  const events = Array.from({ length: BATCH }, (_, i) => ({ type: TYPE, data: { jobId: i } }));
  const setup = () => {
    const bus = new EventBus({ store: null, dedup: false });
    const ctx = { bus, events, ps: new Array(BATCH), count: 0 };
    bus.on(TYPE, () => {
      ctx.count++;
    });
    return ctx;
  };
  const check = (ctx) => (ctx.count > 0 ? undefined : 'the handler never ran');
  const rows = await measure([
    {
      name: `publishBatch(${BATCH} events)`,
      setup,
      loop: async (ctx, n) => {
        const { bus, events } = ctx;
        for (let i = 0; i < n; i++) await bus.publishBatch(events);
      },
      opsPerIter: BATCH,
      check,
    },
    {
      name: `${BATCH} × publish, then await Promise.all`,
      setup,
      loop: async (ctx, n) => {
        const { bus, events, ps } = ctx;
        for (let i = 0; i < n; i++) {
          for (let j = 0; j < events.length; j++) ps[j] = bus.publish(events[j]);
          await Promise.all(ps);
        }
      },
      opsPerIter: BATCH,
      check,
    },
  ]);
  const batch = row(rows, `publishBatch(${BATCH} events)`);
  const single = row(rows, `${BATCH} × publish, then await Promise.all`);
  return {
    title: 'publishBatch of 1,000 events',
    summary: `pure mode, one subscriber; rates in events/s. publishBatch is ${(batch.best / single.best).toFixed(2)}× the single-publish loop.`,
    description: [
      `Pure mode (\`store: null\`), one handler on \`${TYPE}\`. \`await bus.publishBatch(events)\` with the same`,
      `${BATCH} prepared inputs each time, against ${BATCH} \`bus.publish\` calls followed by one \`await Promise.all\`.`,
      'No target; without a store a batch saves only the per-call promise, so expect the two close.',
    ].join(' '),
    tables: [{ rows, baseline: batch.name, ratioLabel: 'publishBatch ÷ this', unit: 'events/s' }],
    targets: [],
  };
}
