import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ClosedError, type ConsumerContext, EventBus, TimeoutError } from '../../src/index.js';
import { consumeWithContext as consume, deferred, eventually, settle, useFakeTimers } from './support.js';

/** The second argument of a consumer handler: `{ deliveries, signal, group }`. */
let bus: EventBus;
let errors: unknown[];

beforeEach(() => {
  errors = [];
  bus = new EventBus({ onError: (error) => errors.push(error) });
});
afterEach(async () => {
  await bus.close();
  vi.useRealTimers();
});

/** A handler's work that ends only when its signal aborts, rejecting with the abort reason. */
function untilAborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
}

describe('the consumer handler context', () => {
  it('counts deliveries 1, 2, 3 across retries, as the dead letter does, and names the group', async () => {
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
    await eventually(() => consumer.stats().deadLettered === 1, 'the dead letter');
    expect(seen).toEqual([
      { deliveries: 1, group: 'jobs' },
      { deliveries: 2, group: 'jobs' },
      { deliveries: 3, group: 'jobs' },
    ]);
    const [letter] = await bus.deadLetters('jobs').list();
    expect(letter).toMatchObject({ deliveries: 3, lastError: { message: 'attempt 3' } });
  });

  it('aborts the signal when the delivery passes ackTimeoutMs, with a TimeoutError; the redelivery gets a fresh one', async () => {
    useFakeTimers();
    const signals: AbortSignal[] = [];
    const deliveries: number[] = [];
    const consumer = await consume(
      bus,
      'job.*',
      (_event, context) => {
        signals.push(context.signal);
        deliveries.push(context.deliveries);
        return context.deliveries === 1 ? new Promise(() => {}) : undefined; // the first hangs
      },
      { group: 'jobs', ackTimeoutMs: 100, retryDelayMs: 0 },
    );
    await bus.publish({ type: 'job.run', data: 1 });
    await eventually(() => signals.length === 1, 'the first delivery');
    await vi.advanceTimersByTimeAsync(99);
    expect(signals[0]!.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(signals[0]!.aborted).toBe(true);
    expect(signals[0]!.reason).toBeInstanceOf(TimeoutError);
    await eventually(() => consumer.stats().acked === 1, 'the redelivery, acknowledged');
    expect(deliveries).toEqual([1, 2]);
    expect(signals[1]!.aborted).toBe(false);
  });

  /** One delivery to a handler that never settles (ackTimeoutMs 100, fake timers): its context. */
  async function hangingDelivery(): Promise<ConsumerContext> {
    useFakeTimers();
    const contexts: ConsumerContext[] = [];
    await consume(
      bus,
      'job.*',
      (_event, context) => {
        contexts.push(context);
        return new Promise(() => {});
      },
      { group: 'jobs', ackTimeoutMs: 100, retryDelayMs: 60_000 },
    );
    await bus.publish({ type: 'job.run', data: 1 });
    await eventually(() => contexts.length === 1, 'the delivery');
    return contexts[0]!;
  }

  it('a copied context ({ ...context }) has the same signal, aborted at the timeout', async () => {
    const context = await hangingDelivery();
    const copy = { ...context };
    // A copy holds the three fields and nothing of the consumer's own state.
    expect(Object.keys(copy)).toEqual(['deliveries', 'signal', 'group']);
    expect(copy).toMatchObject({ deliveries: 1, group: 'jobs' });
    expect(copy.signal.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(100);
    expect(context.signal).toBe(copy.signal);
    expect(copy.signal.aborted).toBe(true);
    expect(copy.signal.reason).toBeInstanceOf(TimeoutError);
  });

  it('a signal first asked for after ackTimeoutMs comes out aborted, with the TimeoutError', async () => {
    // The signal is made on first use (most handlers never read it): late is not too late.
    const context = await hangingDelivery();
    await vi.advanceTimersByTimeAsync(100);
    expect(context.signal.aborted).toBe(true);
    expect(context.signal.reason).toBeInstanceOf(TimeoutError);
  });

  it('aborts the signal when the consumer closes; a handler that stops then leaves the event to the group, redelivered at once', async () => {
    const signals: AbortSignal[] = [];
    const first = await consume(
      bus,
      'job.*',
      (_event, { signal }) => {
        signals.push(signal);
        return untilAborted(signal);
      },
      // A retry would wait a minute: only the hand-back on close redelivers at once.
      { group: 'jobs', retryDelayMs: 60_000 },
    );
    await bus.publish({ type: 'job.run', data: 'x' });
    await eventually(() => first.stats().inFlight === 1, 'the delivery');
    await first.close(); // no timeoutMs: returns because the handler stopped
    expect(signals[0]!.reason).toBeInstanceOf(ClosedError);
    expect(first.stats()).toMatchObject({ inFlight: 0, acked: 0, retried: 0, deadLettered: 0, pending: 1 });
    expect(errors).toEqual([]); // stopping on the abort is not a failure worth reporting

    const next: number[] = [];
    await consume(bus, 'job.*', (_event, { deliveries }) => void next.push(deliveries), { group: 'jobs' });
    await eventually(() => next.length === 1, 'the redelivery');
    expect(next).toEqual([2]);
  });

  it('a handler that finishes after the close abort still acknowledges', async () => {
    const gate = deferred();
    let aborted = false;
    const consumer = await consume(
      bus,
      'job.*',
      async (_event, { signal }) => {
        await gate.promise;
        aborted = signal.aborted;
      },
      { group: 'jobs' },
    );
    await bus.publish({ type: 'job.run', data: 1 });
    await eventually(() => consumer.stats().inFlight === 1, 'the delivery');
    const closing = consumer.close();
    await settle();
    gate.resolve();
    await closing;
    expect(aborted).toBe(true);
    expect(consumer.stats()).toMatchObject({ acked: 1, pending: 0 });
  });

  it('aborts the signal of every running handler when the bus closes', async () => {
    const reasons: unknown[] = [];
    const consumer = await consume(
      bus,
      'job.*',
      async (_event, { signal }) => {
        await untilAborted(signal).catch((reason: unknown) => reasons.push(reason));
      },
      { group: 'jobs', concurrency: 2 },
    );
    await bus.publishBatch([1, 2].map((data) => ({ type: 'job.run', data })));
    await eventually(() => consumer.stats().inFlight === 2, 'two deliveries');
    await bus.close();
    expect(reasons).toEqual([expect.any(ClosedError), expect.any(ClosedError)]);
    expect(consumer.stats()).toMatchObject({ inFlight: 0, acked: 2 });
  });
});
