/**
 * How to unit-test handlers with busline: a real bus with the memory store, a fake clock
 * (no sleeping, no timers), `recordEvents` to observe what the handler publishes, and
 * `bus.drain()` to wait for async handlers. Run: npx vitest run examples/testing-handlers
 */
import { EventBus, MemoryEventStore } from 'busline';
import { createFakeClock, recordEvents } from 'busline/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { escalateRepeatedFailures, type JobEvents, WINDOW_MS } from './escalation.js';

describe('escalateRepeatedFailures', () => {
  let clock: ReturnType<typeof createFakeClock>;
  let bus: EventBus<JobEvents>;

  beforeEach(() => {
    clock = createFakeClock();
    // The memory store makes the test see exactly what production would store.
    bus = new EventBus<JobEvents>({ store: new MemoryEventStore({ clock: clock.now }), clock: clock.now });
    escalateRepeatedFailures(bus);
  });
  afterEach(() => bus.close());

  const fail = (job: string) => bus.publish({ type: 'job.failed', data: { job, reason: 'exit 1' } });

  it('escalates the third failure of a job within a minute', async () => {
    const escalations = recordEvents(bus, 'job.escalated');
    await fail('build');
    clock.advance(10_000);
    await fail('build');
    clock.advance(10_000);
    await fail('build');
    await bus.drain(); // the handler is async: wait for it, do not sleep
    expect(escalations.events.map((e) => e.data)).toEqual([{ job: 'build', failures: 3 }]);
  });

  it('does not escalate failures spread over more than the window', async () => {
    const escalations = recordEvents(bus, 'job.escalated');
    for (let i = 0; i < 3; i++) {
      await fail('deploy');
      clock.advance(WINDOW_MS / 2);
    }
    await bus.drain();
    expect(escalations.events).toEqual([]);
  });

  it('counts jobs separately, and the stored history shows the whole story', async () => {
    for (const job of ['a', 'b', 'a', 'b', 'a']) await fail(job);
    await bus.drain();
    const history = [];
    for await (const item of bus.subscribe('job.**', { from: 'start' })) {
      if ('type' in item) history.push(`${item.type}:${item.data.job}`);
      if (history.length === 6) break;
    }
    expect(history).toEqual([
      'job.failed:a',
      'job.failed:b',
      'job.failed:a',
      'job.failed:b',
      'job.failed:a',
      'job.escalated:a',
    ]);
  });

  it('can wait for a delivery instead of draining', async () => {
    const escalations = recordEvents(bus, 'job.escalated');
    await Promise.all([fail('x'), fail('x'), fail('x')]);
    await escalations.waitFor(1);
    expect(escalations.events[0]!.data.job).toBe('x');
  });
});
