import { describe, expect, it } from 'vitest';
import type { Consumer, EventBus, StoredEvent } from '../../../src/index.js';
import { deferred } from '../../groups/support.js';
import { connectNodeRedis, deletePrefix, waitFor } from '../store/redis-fixtures.js';
import { groupBuses } from './group-buses.js';

/**
 * bus.consume on a RedisEventStore: buses with their own Redis connections stand for
 * processes (the SIGKILL test in test/integration runs real ones). Every wait is bounded by
 * `waitFor`; nothing asserts a duration.
 */
const fixture = groupBuses('consume');
const { errors } = fixture;
const newBus = async (): Promise<EventBus> => (await fixture.newBus()).bus;

const tasks = (from: number, count: number) =>
  Array.from({ length: count }, (_, i) => ({ type: 'task.created', data: from + i }));

describe('bus.consume on Redis', () => {
  it('gives each event to exactly one consumer of the group across buses, and they share the work', async () => {
    const [a, b] = [await newBus(), await newBus()];
    const handledBy = new Map<number, string[]>();
    const consumers: Consumer[] = [];
    for (const [name, bus] of [
      ['a1', a],
      ['a2', a],
      ['b1', b],
      ['b2', b],
    ] as const) {
      consumers.push(
        await bus.consume(
          'task.*',
          async (event) => {
            const n = event.data as number;
            handledBy.set(n, [...(handledBy.get(n) ?? []), name]);
            await new Promise((resolve) => setTimeout(resolve, 2));
          },
          { group: 'workers' },
        ),
      );
    }
    for (let i = 0; i < 200; i += 20) await (i % 40 === 0 ? a : b).publishBatch(tasks(i, 20));
    await waitFor(() => consumers.reduce((sum, c) => sum + c.stats().acked, 0) === 200);
    expect(handledBy.size).toBe(200);
    expect([...handledBy.values()].filter((who) => who.length !== 1)).toEqual([]);
    const workers = new Set([...handledBy.values()].map((who) => who[0]));
    expect(workers.size).toBeGreaterThan(1);
    await waitFor(() => consumers.every((c) => c.stats().pending === 0));
    expect(errors).toEqual([]);
  });

  it('gives every event to each group, and only events of its patterns', async () => {
    const [a, b] = [await newBus(), await newBus()];
    const seen = { billing: [] as string[], audit: [] as string[] };
    await a.consume(['task.created', 'job.**'], (e) => void seen.billing.push(e.type), { group: 'billing' });
    await b.consume('**', (e) => void seen.audit.push(e.type), { group: 'audit' });
    const types = ['task.created', 'task.deleted', 'job', 'job.a.b', 'user.created'];
    await a.publishBatch(types.map((type) => ({ type, data: 0 })));
    await waitFor(() => seen.billing.length === 3 && seen.audit.length === 5);
    expect(seen.billing).toEqual(['task.created', 'job', 'job.a.b']);
    expect(seen.audit).toEqual(types);
  });

  it('delivers in cursor order to a consumer with concurrency 1', async () => {
    const bus = await newBus();
    const seen: StoredEvent[] = [];
    await bus.consume('task.*', (e) => void seen.push(e), { group: 'ordered' });
    for (let i = 0; i < 50; i += 10) await bus.publishBatch(tasks(i, 10));
    await waitFor(() => seen.length === 50);
    expect(seen.map((e) => e.data)).toEqual(tasks(0, 50).map((t) => t.data));
    const cursors = seen.map((e) => e.cursor);
    expect([...cursors].sort()).toEqual(cursors);
  });

  it('processes the history with from start, and resumes an existing group where it left off', async () => {
    const [a, b] = [await newBus(), await newBus()];
    await a.publishBatch(tasks(0, 3));
    const first: unknown[] = [];
    const consumer = await a.consume('task.*', (e) => void first.push(e.data), { group: 'g', from: 'start' });
    await waitFor(() => first.length === 3);
    await consumer.close();
    await b.publishBatch(tasks(3, 4)); // nobody consumes meanwhile
    const second: unknown[] = [];
    await b.consume('task.*', (e) => void second.push(e.data), { group: 'g', from: 'now' });
    await waitFor(() => second.length === 4);
    expect(first).toEqual([0, 1, 2]);
    expect(second).toEqual([3, 4, 5, 6]);
  });

  it('retries a poison event with backoff, dead-letters it, lists and redrives it from another bus', async () => {
    const [a, b] = [await newBus(), await newBus()];
    let poisoned = true;
    const calls: number[] = [];
    const done: unknown[] = [];
    const consumer = await a.consume(
      'task.*',
      (e) => {
        calls.push(e.data as number);
        if (e.data === 1 && poisoned) throw new TypeError(`cannot handle ${String(e.data)}`);
        done.push(e.data);
      },
      { group: 'g', maxDeliveries: 3, retryDelayMs: 10 },
    );
    await b.publishBatch(tasks(0, 3));
    await waitFor(() => consumer.stats().deadLettered === 1 && done.length === 2);
    expect(calls.filter((n) => n === 1)).toHaveLength(3);
    expect(done).toEqual([0, 2]); // the poison event did not block the others
    const letters = await b.deadLetters('g').list();
    expect(letters).toEqual([
      {
        event: expect.objectContaining({ type: 'task.created', data: 1 }),
        group: 'g',
        deliveries: 3,
        lastError: { name: 'TypeError', message: 'cannot handle 1' },
        deadAt: expect.any(Number),
      },
    ]);
    poisoned = false;
    expect(await b.deadLetters('g').redrive()).toBe(1);
    await waitFor(() => done.length === 3);
    expect(done).toEqual([0, 2, 1]);
    expect(await a.deadLetters('g').list()).toEqual([]);
    expect(consumer.stats()).toMatchObject({ retried: 2, deadLettered: 1, acked: 3 });
    await waitFor(() => consumer.stats().pending === 0);
  });

  it('redelivers an event whose handler never settles after ackTimeoutMs', async () => {
    const bus = await newBus();
    const deliveries: number[] = [];
    const consumer = await bus.consume(
      'task.*',
      (e) => {
        deliveries.push(e.data as number);
        if (deliveries.length === 1) return new Promise(() => {}); // stuck for good
        return undefined;
      },
      { group: 'g', ackTimeoutMs: 100, retryDelayMs: 0 },
    );
    await bus.publish(tasks(7, 1)[0]!);
    await waitFor(() => consumer.stats().acked === 1);
    expect(deliveries).toEqual([7, 7]);
    expect(errors).toEqual([expect.objectContaining({ code: 'TIMEOUT' })]);
  });

  it('close() waits for in-flight handlers up to timeoutMs, then leaves the event to another bus at once', async () => {
    const [a, b] = [await newBus(), await newBus()];
    const started = deferred();
    const stuck = await a.consume(
      'task.*',
      () => {
        started.resolve();
        return new Promise(() => {});
      },
      // ackTimeoutMs far away: only the hand-back on close can make b see the event soon.
      { group: 'g', ackTimeoutMs: 600_000 },
    );
    await a.publish(tasks(1, 1)[0]!);
    await started.promise;
    await stuck.close({ timeoutMs: 20 });
    const taken: { data: unknown; deliveries: number }[] = [];
    const other = await b.consume('task.*', (e) => void taken.push({ data: e.data, deliveries: 0 }), {
      group: 'g',
    });
    await waitFor(() => taken.length === 1);
    expect(taken[0]!.data).toBe(1);
    // The ack is a round trip after the handler returned: wait for it, under load it lags.
    await waitFor(() => other.stats().acked === 1);
    expect(taken).toHaveLength(1);
  });

  it('recreates a group Redis lost and reports it, then goes on with new events', async () => {
    const bus = await newBus();
    const seen: unknown[] = [];
    await bus.consume('task.*', (e) => void seen.push(e.data), { group: 'g' });
    await bus.publish(tasks(0, 1)[0]!);
    await waitFor(() => seen.length === 1);
    const cleaner = await connectNodeRedis();
    await deletePrefix(cleaner, fixture.prefix); // as if Redis restarted with nothing on disk
    cleaner.destroy();
    const publisher = await newBus();
    await publisher.publish(tasks(1, 1)[0]!);
    await waitFor(() => seen.length === 2);
    expect(seen).toEqual([0, 1]);
    expect(errors).toContainEqual(expect.objectContaining({ code: 'HISTORY_TRUNCATED' }));
  });
});
