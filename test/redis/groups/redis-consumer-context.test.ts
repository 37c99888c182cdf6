import { describe, expect, it } from 'vitest';
import { ClosedError, type EventBus, TimeoutError } from '../../../src/index.js';
import { consumeWithContext as consume } from '../../groups/support.js';
import { waitFor } from '../store/redis-fixtures.js';
import { groupBuses } from './group-buses.js';

/**
 * The handler context on Redis: `deliveries` is the count Redis keeps (PEL count plus the
 * deliveries before a retry copy), `signal` aborts at ackTimeoutMs and on close.
 */
const fixture = groupBuses('consumer-context');
const newBus = async (): Promise<EventBus> => (await fixture.newBus()).bus;

function untilAborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
}

describe('the consumer handler context on Redis', () => {
  it('counts deliveries 1, 2, 3 across retries, as the dead letter does, and names the group', async () => {
    const bus = await newBus();
    const seen: { deliveries: number; group: string }[] = [];
    const consumer = await consume(
      bus,
      'job.*',
      (_event, { deliveries, group }) => {
        seen.push({ deliveries, group });
        throw new Error(`attempt ${deliveries}`);
      },
      { group: 'jobs', retryDelayMs: 0, maxDeliveries: 3 },
    );
    await bus.publish({ type: 'job.run', data: 'poison' });
    await waitFor(() => consumer.stats().deadLettered === 1);
    expect(seen).toEqual([
      { deliveries: 1, group: 'jobs' },
      { deliveries: 2, group: 'jobs' },
      { deliveries: 3, group: 'jobs' },
    ]);
    const [letter] = await bus.deadLetters('jobs').list();
    expect(letter).toMatchObject({ deliveries: 3, lastError: { message: 'attempt 3' } });
  });

  it('aborts the signal when the delivery passes ackTimeoutMs, with a TimeoutError; the redelivery is the second', async () => {
    const bus = await newBus();
    const calls: { deliveries: number; signal: AbortSignal }[] = [];
    const consumer = await consume(
      bus,
      'job.*',
      (_event, { deliveries, signal }) => {
        calls.push({ deliveries, signal });
        return deliveries === 1 ? untilAborted(signal) : undefined;
      },
      { group: 'jobs', ackTimeoutMs: 100, retryDelayMs: 0 },
    );
    await bus.publish({ type: 'job.run', data: 1 });
    await waitFor(() => consumer.stats().acked === 1);
    expect(calls.map((c) => c.deliveries)).toEqual([1, 2]);
    expect(calls[0]!.signal.reason).toBeInstanceOf(TimeoutError);
    expect(calls[1]!.signal.aborted).toBe(false);
  });

  it('aborts the signal when the consumer closes; the event goes to a consumer of another bus as its second delivery', async () => {
    const [a, b] = [await newBus(), await newBus()];
    const signals: AbortSignal[] = [];
    const first = await consume(
      a,
      'job.*',
      (_event, { signal }) => {
        signals.push(signal);
        return untilAborted(signal);
      },
      { group: 'jobs', retryDelayMs: 60_000, ackTimeoutMs: 600_000 },
    );
    await a.publish({ type: 'job.run', data: 'x' });
    await waitFor(() => first.stats().inFlight === 1);
    await first.close();
    expect(signals[0]!.reason).toBeInstanceOf(ClosedError);
    expect(first.stats()).toMatchObject({ acked: 0, retried: 0, deadLettered: 0 });

    const next: { deliveries: number; group: string }[] = [];
    const second = await consume(
      b,
      'job.*',
      (_event, { deliveries, group }) => void next.push({ deliveries, group }),
      { group: 'jobs' },
    );
    await waitFor(() => second.stats().acked === 1);
    expect(next).toEqual([{ deliveries: 2, group: 'jobs' }]);
  });
});
