import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { resolveConsumeOptions, retryDelay } from '../../src/groups/resolve-consume-options.js';
import { CONSUME_DEFAULTS, type ErrorContext, EventBus, MemoryEventStore } from '../../src/index.js';
import { deferred, eventually, settle, useFakeTimers } from './support.js';

const T0 = 1_700_000_000_000;
let bus: EventBus;
let errors: { error: unknown; context: ErrorContext }[];

beforeEach(() => {
  useFakeTimers();
  vi.setSystemTime(T0);
  errors = [];
  bus = new EventBus({ onError: (error, context) => errors.push({ error, context }) });
});
afterEach(async () => {
  await bus.close();
  vi.useRealTimers();
});

/** Advances the fake clock in steps, letting the consumers run between them. */
async function advance(ms: number, step = 10): Promise<void> {
  for (let t = 0; t < ms; t += step) {
    await vi.advanceTimersByTimeAsync(Math.min(step, ms - t));
    await settle(2);
  }
}

describe('retries and dead letters', () => {
  it('retries a throwing handler with exponential backoff, then dead-letters it with the last error', async () => {
    const calls: number[] = [];
    const consumer = await bus.consume(
      'job.*',
      (event) => {
        calls.push(Date.now() - T0);
        throw new TypeError(`boom ${calls.length} on ${String(event.data)}`);
      },
      { group: 'jobs', retryDelayMs: 100, maxDeliveries: 4 },
    );
    const { cursor } = await bus.publish({ type: 'job.run', data: 'poison' });
    await eventually(() => calls.length === 1, 'the first delivery');
    await advance(2000);
    // Delivered at 0, then after 100, 200 and 400 ms of backoff: 4 deliveries in all.
    expect(calls).toEqual([0, 100, 300, 700]);
    const letters = await bus.deadLetters('jobs').list();
    expect(letters).toEqual([
      {
        event: expect.objectContaining({ type: 'job.run', data: 'poison', cursor }),
        group: 'jobs',
        deliveries: 4,
        lastError: { name: 'TypeError', message: 'boom 4 on poison' },
        deadAt: T0 + 700,
      },
    ]);
    expect(consumer.stats()).toMatchObject({
      delivered: 4,
      acked: 0,
      retried: 3,
      deadLettered: 1,
      pending: 0,
      inFlight: 0,
    });
    expect(errors).toHaveLength(4);
    expect(errors[0]!.context).toMatchObject({ source: 'handler', patterns: ['job.*'] });
  });

  it('treats a rejected promise like a throw, and a later success acknowledges', async () => {
    let calls = 0;
    const consumer = await bus.consume(
      'job.*',
      async () => {
        if (++calls < 3) throw new Error('flaky');
      },
      { group: 'jobs', retryDelayMs: 50 },
    );
    await bus.publish({ type: 'job.run', data: 1 });
    await advance(500);
    expect(calls).toBe(3);
    expect(consumer.stats()).toMatchObject({
      delivered: 3,
      retried: 2,
      acked: 1,
      deadLettered: 0,
      pending: 0,
    });
    expect(await bus.deadLetters('jobs').list()).toEqual([]);
  });

  it('keeps serving other events while one waits for its retry', async () => {
    const seen: unknown[] = [];
    await bus.consume(
      'job.*',
      (event) => {
        seen.push(event.data);
        if (event.data === 'bad' && seen.filter((d) => d === 'bad').length === 1) throw new Error('once');
      },
      { group: 'jobs', retryDelayMs: 1000 },
    );
    await bus.publishBatch(['bad', 'a', 'b'].map((data) => ({ type: 'job.run', data })));
    await eventually(() => seen.length === 3, 'the first three deliveries');
    expect(seen).toEqual(['bad', 'a', 'b']);
    await advance(1000);
    expect(seen).toEqual(['bad', 'a', 'b', 'bad']);
  });

  it('redelivers an event whose handler never settles after ackTimeoutMs, then dead-letters it', async () => {
    const calls: number[] = [];
    const consumer = await bus.consume(
      'job.*',
      () => {
        calls.push(Date.now() - T0);
        return new Promise(() => {}); // stuck forever
      },
      { group: 'jobs', ackTimeoutMs: 1000, retryDelayMs: 10, maxDeliveries: 2 },
    );
    await bus.publish({ type: 'job.run', data: 'stuck' });
    await eventually(() => calls.length === 1, 'the first delivery');
    expect(consumer.stats()).toMatchObject({ inFlight: 1, pending: 1 });
    await advance(999);
    expect(calls).toEqual([0]);
    await advance(3000);
    expect(calls).toEqual([0, 1010]);
    const [letter] = await bus.deadLetters('jobs').list();
    expect(letter).toMatchObject({
      deliveries: 2,
      lastError: { name: 'TimeoutError', message: expect.stringContaining('1000 ms') },
      deadAt: T0 + 2010,
    });
    expect(consumer.stats()).toMatchObject({ inFlight: 0, retried: 1, deadLettered: 1, pending: 0 });
  });

  it('frees the slot of a stuck handler, so the group is not blocked', async () => {
    const seen: unknown[] = [];
    await bus.consume(
      'job.*',
      (event) => {
        seen.push(event.data);
        return event.data === 'stuck' ? new Promise(() => {}) : undefined;
      },
      { group: 'jobs', ackTimeoutMs: 500, maxDeliveries: 1 },
    );
    await bus.publishBatch(['stuck', 'next'].map((data) => ({ type: 'job.run', data })));
    await eventually(() => seen.length === 1, 'the stuck delivery');
    await advance(500);
    await eventually(() => seen.length === 2, 'the next event');
    expect(seen).toEqual(['stuck', 'next']);
  });

  it('ignores the late result of a handler that timed out', async () => {
    const late = deferred();
    let calls = 0;
    const consumer = await bus.consume('job.*', () => (++calls === 1 ? late.promise : undefined), {
      group: 'jobs',
      ackTimeoutMs: 100,
      retryDelayMs: 1000,
    });
    await bus.publish({ type: 'job.run', data: 1 });
    await advance(100); // timed out: retry in 1000 ms
    late.resolve(); // too late: must not acknowledge the event
    await settle();
    expect(consumer.stats()).toMatchObject({ acked: 0, retried: 1, pending: 1 });
    await advance(1000);
    expect(calls).toBe(2);
    expect(consumer.stats()).toMatchObject({ acked: 1, retried: 1, pending: 0 });
  });

  it('redelivers a failed event to another consumer of the group', async () => {
    const seenByA: unknown[] = [];
    const a = await bus.consume(
      'job.*',
      (e) => {
        seenByA.push(e.data);
        throw new Error('A cannot');
      },
      { group: 'jobs', retryDelayMs: 100 },
    );
    await bus.publish({ type: 'job.run', data: 'x' });
    await eventually(() => seenByA.length === 1, 'the delivery to A');
    await a.close();
    const seenByB: unknown[] = [];
    const b = await bus.consume('job.*', (e) => seenByB.push(e.data), { group: 'jobs' });
    await advance(100);
    expect(seenByB).toEqual(['x']);
    expect(b.stats()).toMatchObject({ acked: 1, pending: 0 });
  });

  it('doubles the delay per failed delivery up to maxRetryDelayMs', () => {
    const options = resolveConsumeOptions({ group: 'g', retryDelayMs: 1000, maxRetryDelayMs: 5000 });
    expect([1, 2, 3, 4, 5, 60].map((n) => retryDelay(options, n))).toEqual([
      1000, 2000, 4000, 5000, 5000, 5000,
    ]);
    const defaults = resolveConsumeOptions({ group: 'g' });
    expect(retryDelay(defaults, 1)).toBe(CONSUME_DEFAULTS.retryDelayMs);
    expect(retryDelay(defaults, 1000)).toBe(CONSUME_DEFAULTS.maxRetryDelayMs);
    expect(retryDelay(resolveConsumeOptions({ group: 'g', retryDelayMs: 0 }), 3)).toBe(0);
  });
});

describe('redrive', () => {
  it('puts dead letters back into the group with a fresh delivery count', async () => {
    let fixed = false;
    let calls = 0;
    await bus.consume(
      'job.*',
      () => {
        calls++;
        if (!fixed) throw new Error('not yet');
      },
      { group: 'jobs', retryDelayMs: 10, maxDeliveries: 2 },
    );
    await bus.publish({ type: 'job.run', data: 1 });
    await advance(100);
    expect(calls).toBe(2);
    expect(await bus.deadLetters('jobs').list()).toHaveLength(1);
    // Redriven while still broken: it gets maxDeliveries fresh deliveries, not one.
    expect(await bus.deadLetters('jobs').redrive()).toBe(1);
    await advance(100);
    expect(calls).toBe(4);
    const [again] = await bus.deadLetters('jobs').list();
    expect(again).toMatchObject({ deliveries: 2 });
    fixed = true;
    expect(await bus.deadLetters('jobs').redrive([again!.event.id])).toBe(1);
    await eventually(() => calls === 5, 'the redriven delivery');
    await settle();
    expect(await bus.deadLetters('jobs').list()).toEqual([]);
  });

  it('redrives only the given ids, ignores unknown ones, and answers 0 for an unknown group', async () => {
    await bus.consume(
      'job.*',
      () => {
        throw new Error('always');
      },
      { group: 'jobs', maxDeliveries: 1 },
    );
    const results = await bus.publishBatch(['a', 'b'].map((data) => ({ type: 'job.run', data })));
    const letters = bus.deadLetters('jobs');
    await eventually(() => bus.stats().published === 2, 'published');
    await advance(10);
    expect((await letters.list()).map((l) => l.event.data)).toEqual(['a', 'b']);
    expect(await letters.redrive(['no-such-id', results[1]!.id])).toBe(1);
    expect((await letters.list()).map((l) => l.event.data)).toEqual(['a']);
    // 'b' is back in the group: it fails again and returns to the end of the list.
    await advance(10);
    expect((await letters.list()).map((l) => l.event.data)).toEqual(['a', 'b']);
    expect(await bus.deadLetters('unknown').list()).toEqual([]);
    expect(await bus.deadLetters('unknown').redrive()).toBe(0);
  });

  it('holds redriven events until a consumer joins', async () => {
    const a = await bus.consume(
      'job.*',
      () => {
        throw new Error('broken');
      },
      { group: 'jobs', maxDeliveries: 1 },
    );
    await bus.publish({ type: 'job.run', data: 'later' });
    await eventually(() => a.stats().deadLettered === 1, 'dead-lettered');
    await a.close();
    expect(await bus.deadLetters('jobs').redrive()).toBe(1);
    const seen: unknown[] = [];
    const b = await bus.consume('job.*', (e) => seen.push(e.data), { group: 'jobs' });
    await eventually(() => seen.length === 1, 'the redriven event');
    expect(seen).toEqual(['later']);
    expect(b.stats()).toMatchObject({ acked: 1, pending: 0 });
  });
});

describe('found by the simulation', () => {
  it('a retry that falls due while the store cannot be read is delivered once it can (memory backend)', async () => {
    const store = new MemoryEventStore();
    bus = new EventBus({ store, onError: (error, context) => errors.push({ error, context }) });
    const calls: string[] = [];
    const consumer = await bus.consume(
      'job',
      (event, { deliveries }) => {
        calls.push(`${event.data}#${deliveries}`);
        if (event.data === 'A' && deliveries === 1) throw new Error('first try fails');
      },
      { group: 'g', concurrency: 2, retryDelayMs: 20 },
    );
    await bus.publish({ type: 'job', data: 'A' });
    await advance(5);
    expect(calls).toEqual(['A#1']);
    const read = store.read.bind(store);
    let down = true;
    store.read = async (query) => {
      if (down) throw new Error('store down');
      return read(query);
    };
    await advance(200); // the retry of A falls due, and its claim's read of new events fails
    down = false;
    await bus.publish({ type: 'job', data: 'B' });
    await advance(200);
    expect(calls).toContain('A#2');
    expect(calls).toContain('B#1');
    expect(consumer.stats().pending).toBe(0);
    await consumer.close();
  });
});
