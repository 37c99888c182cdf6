import { afterEach, describe, expect, it, vi } from 'vitest';
import { EventBus } from '../../src/index.js';
import { deferred, eventually, settle, useFakeTimers } from './support.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('consumer.close', () => {
  it('stops fetching and waits for in-flight handlers, which then acknowledge', async () => {
    const bus = new EventBus({ onError: () => {} });
    const gates = [deferred(), deferred()];
    const started: unknown[] = [];
    const consumer = await bus.consume(
      'job.*',
      async (e) => {
        started.push(e.data);
        await gates[started.length - 1]!.promise;
      },
      { group: 'jobs', concurrency: 2 },
    );
    await bus.publishBatch([1, 2].map((data) => ({ type: 'job.run', data })));
    await eventually(() => started.length === 2, 'two handlers running');
    let closed = false;
    const closing = consumer.close().then(() => {
      closed = true;
    });
    await bus.publish({ type: 'job.run', data: 3 }); // published while closing: not fetched
    gates[0]!.resolve();
    await settle();
    expect(closed).toBe(false);
    gates[1]!.resolve();
    await closing;
    expect(started).toEqual([1, 2]);
    expect(consumer.stats()).toMatchObject({ inFlight: 0, acked: 2, pending: 0 });
    expect(consumer.close()).toBe(consumer.close()); // idempotent: the same promise
    // Event 3 is still the group's: the next consumer gets it.
    const next: unknown[] = [];
    await bus.consume('job.*', (e) => next.push(e.data), { group: 'jobs' });
    await eventually(() => next.length === 1, 'event 3');
    expect(next).toEqual([3]);
    await bus.close();
  });

  it('after timeoutMs abandons what is still running and leaves it pending for another consumer', async () => {
    useFakeTimers();
    const bus = new EventBus({ onError: () => {} });
    const stuck = deferred();
    const seenByA: unknown[] = [];
    const a = await bus.consume(
      'job.*',
      (e) => {
        seenByA.push(e.data);
        return stuck.promise;
      },
      { group: 'jobs' },
    );
    await bus.publish({ type: 'job.run', data: 'x' });
    await eventually(() => seenByA.length === 1, 'the delivery to A');
    const seenByB: unknown[] = [];
    const b = await bus.consume('job.*', (e) => seenByB.push(e.data), { group: 'jobs' });
    await settle();
    expect(seenByB).toEqual([]); // A holds it

    const closing = a.close({ timeoutMs: 200 });
    await vi.advanceTimersByTimeAsync(199);
    await settle();
    expect(seenByB).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    await closing;
    await eventually(() => seenByB.length === 1, 'the redelivery to B');
    expect(seenByB).toEqual(['x']);
    stuck.resolve(); // A's late success is ignored
    await settle();
    expect(a.stats()).toMatchObject({ acked: 0, inFlight: 0 });
    expect(b.stats()).toMatchObject({ acked: 1, pending: 0 });
    await bus.close();
  });

  it('leaves unacknowledged events to the next consumer that joins', async () => {
    const bus = new EventBus({ onError: () => {} });
    const a = await bus.consume('job.*', () => new Promise(() => {}), { group: 'jobs' });
    await bus.publish({ type: 'job.run', data: 'unfinished' });
    await eventually(() => a.stats().inFlight === 1, 'the delivery to A');
    await a.close({ timeoutMs: 0 });
    expect(a.stats()).toMatchObject({ inFlight: 0, pending: 1 });
    const seen: unknown[] = [];
    await bus.consume('job.*', (e) => seen.push(e.data), { group: 'jobs' });
    await eventually(() => seen.length === 1, 'the redelivery');
    expect(seen).toEqual(['unfinished']);
    await bus.close();
  });
});

describe('bus.close', () => {
  it('closes every consumer, waiting for their in-flight handlers', async () => {
    const bus = new EventBus({ onError: () => {} });
    const gate = deferred();
    let finished = false;
    const consumer = await bus.consume(
      'job.*',
      async () => {
        await gate.promise;
        finished = true;
      },
      { group: 'jobs' },
    );
    await bus.publish({ type: 'job.run', data: 1 });
    await eventually(() => consumer.stats().inFlight === 1, 'a running handler');
    let closed = false;
    const closing = bus.close().then(() => {
      closed = true;
    });
    await settle();
    expect(closed).toBe(false);
    gate.resolve();
    await closing;
    expect(finished).toBe(true);
    expect(consumer.stats()).toMatchObject({ acked: 1, inFlight: 0 });
    await expect(bus.consume('job.*', () => {}, { group: 'jobs' })).rejects.toMatchObject({ code: 'CLOSED' });
    expect(() => bus.deadLetters('jobs')).toThrow(expect.objectContaining({ code: 'CLOSED' }));
  });

  it('rejects a consume() that was still joining when the bus closed', async () => {
    const bus = new EventBus({ onError: () => {} });
    const joining = bus.consume('job.*', () => {}, { group: 'jobs' });
    await bus.close();
    await expect(joining).rejects.toMatchObject({ code: 'CLOSED' });
  });

  it('ends the wake-up subscription when the last consumer of a group closes', async () => {
    const bus = new EventBus({ onError: () => {} });
    const a = await bus.consume('job.*', () => {}, { group: 'jobs' });
    const b = await bus.consume('job.*', () => {}, { group: 'jobs' });
    // The watcher is internal: not a subscription anyone counts (regression #13.11).
    expect(bus.stats().subscriptions).toBe(0);
    expect((await bus.publish({ type: 'job.x', data: 1 })).deliveredTo).toBe(0);
    await a.close();
    await b.close();
    // A group that closed and one that is still running: the running one is still woken.
    let handled!: (type: string) => void;
    const woken = new Promise<string>((resolve) => {
      handled = resolve;
    });
    const c = await bus.consume('job.*', (event) => handled(event.type), { group: 'other' });
    await bus.publish({ type: 'job.y', data: 2 });
    expect(await woken).toBe('job.y');
    expect(bus.stats().subscriptions).toBe(0);
    await c.close();
    await bus.close();
  });
});
