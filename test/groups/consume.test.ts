import { describe, expect, it } from 'vitest';
import { type Consumer, MemoryEventStore, type StoredEvent } from '../../src/index.js';
import { SharedMemoryStore } from '../support/shared-memory-store.js';
import { busesClosedAfterEach, deferred, eventually, settle } from './support.js';

const newBus = busesClosedAfterEach();

const tasks = (from: number, count: number) =>
  Array.from({ length: count }, (_, i) => ({ type: 'task.created', data: from + i }));

describe('bus.consume: one consumer of the group per event', () => {
  it('gives each event to exactly one of three consumers of a group, and all three share the work', async () => {
    const bus = newBus();
    const handledBy = new Map<number, number[]>();
    const consumers: Consumer[] = [];
    for (const who of [0, 1, 2]) {
      consumers.push(
        await bus.consume(
          'task.*',
          async (event) => {
            const n = event.data as number;
            handledBy.set(n, [...(handledBy.get(n) ?? []), who]);
            await settle(1); // holds the slot for a turn, as real work would
          },
          { group: 'workers' },
        ),
      );
    }
    for (let i = 0; i < 90; i += 10) await bus.publishBatch(tasks(i, 10));
    await eventually(() => handledBy.size === 90, 'all 90 events handled');
    await settle();
    expect([...handledBy.keys()].sort((a, b) => a - b)).toEqual(tasks(0, 90).map((t) => t.data));
    expect([...handledBy.values()].filter((who) => who.length !== 1)).toEqual([]);
    for (const who of [0, 1, 2]) {
      expect([...handledBy.values()].filter((w) => w[0] === who).length).toBeGreaterThan(0);
    }
    const stats = consumers.map((c) => c.stats());
    expect(stats.reduce((sum, s) => sum + s.acked, 0)).toBe(90);
    expect(stats.map((s) => s.pending)).toEqual([0, 0, 0]);
  });

  it('gives every event to each of two groups', async () => {
    const bus = newBus();
    const seen = { billing: [] as unknown[], audit: [] as unknown[] };
    for (const group of ['billing', 'audit'] as const) {
      for (let i = 0; i < 2; i++) await bus.consume('task.*', (e) => seen[group].push(e.data), { group });
    }
    await bus.publishBatch(tasks(0, 20));
    await eventually(() => seen.billing.length === 20 && seen.audit.length === 20, 'both groups done');
    await settle();
    expect(new Set(seen.billing).size).toBe(20);
    expect(new Set(seen.audit).size).toBe(20);
    expect(seen.billing.length + seen.audit.length).toBe(40);
  });

  it('only delivers events matching the patterns', async () => {
    const bus = newBus();
    const seen: string[] = [];
    await bus.consume(['task.created', 'job.**'], (e) => seen.push(e.type), { group: 'g' });
    await bus.publishBatch(
      ['task.created', 'task.deleted', 'job', 'job.a.b', 'user.created'].map((type) => ({ type, data: 0 })),
    );
    await eventually(() => seen.length === 3, 'three matching events');
    await settle();
    expect(seen).toEqual(['task.created', 'job', 'job.a.b']);
  });

  it('delivers in cursor order to a consumer with concurrency 1, one at a time', async () => {
    const bus = newBus();
    const seen: StoredEvent[] = [];
    let running = 0;
    let peak = 0;
    await bus.consume(
      'task.*',
      async (event) => {
        peak = Math.max(peak, ++running);
        seen.push(event);
        await settle(1);
        running--;
      },
      { group: 'ordered' },
    );
    for (let i = 0; i < 40; i += 8) void bus.publishBatch(tasks(i, 8));
    await eventually(() => seen.length === 40, '40 events');
    expect(seen.map((e) => e.data)).toEqual(tasks(0, 40).map((t) => t.data));
    const cursors = seen.map((e) => e.cursor);
    expect(cursors).toEqual([...cursors].sort());
    expect(peak).toBe(1);
  });

  it('never runs more than `concurrency` handlers of a consumer at once', async () => {
    const bus = newBus();
    const gates: (() => void)[] = [];
    let running = 0;
    let peak = 0;
    let done = 0;
    const consumer = await bus.consume(
      'task.*',
      async () => {
        peak = Math.max(peak, ++running);
        const gate = deferred();
        gates.push(gate.resolve);
        await gate.promise;
        running--;
        done++;
      },
      { group: 'bounded', concurrency: 3 },
    );
    await bus.publishBatch(tasks(0, 20));
    await eventually(() => running === 3, 'three handlers running');
    await settle();
    expect(running).toBe(3);
    expect(consumer.stats()).toMatchObject({ inFlight: 3, delivered: 3, pending: 3 });
    while (done < 20) {
      gates.shift()?.();
      await settle(3);
      expect(running).toBeLessThanOrEqual(3);
    }
    expect(peak).toBe(3);
    expect(consumer.stats()).toMatchObject({ inFlight: 0, delivered: 20, acked: 20, pending: 0 });
  });
});

describe('bus.consume: where a group starts and resumes', () => {
  it("from 'now' (the default) skips the history; from 'start' processes it too", async () => {
    const bus = newBus();
    await bus.publishBatch(tasks(0, 3));
    const fromNow: unknown[] = [];
    const fromStart: unknown[] = [];
    await bus.consume('task.*', (e) => fromNow.push(e.data), { group: 'new-now' });
    await bus.consume('task.*', (e) => fromStart.push(e.data), { group: 'new-start', from: 'start' });
    await bus.publish({ type: 'task.created', data: 3 });
    await eventually(() => fromNow.length === 1 && fromStart.length === 4, 'both groups caught up');
    await settle();
    expect(fromNow).toEqual([3]);
    expect(fromStart).toEqual([0, 1, 2, 3]);
  });

  it('delivers every event published once consume() has resolved, even without awaiting in between', async () => {
    const bus = newBus();
    const seen: unknown[] = [];
    await bus.consume('task.*', (e) => seen.push(e.data), { group: 'g' });
    void bus.publish({ type: 'task.created', data: 'first' });
    await eventually(() => seen.length === 1, 'the first event');
    expect(seen).toEqual(['first']);
  });

  it('keeps its position when all consumers close: events published meanwhile reach the next one', async () => {
    const bus = newBus();
    const first: unknown[] = [];
    const a = await bus.consume('task.*', (e) => first.push(e.data), { group: 'durable' });
    await bus.publishBatch(tasks(0, 2));
    await eventually(() => first.length === 2, 'two events');
    await a.close();
    await bus.publishBatch(tasks(2, 3)); // nobody in the group is running now
    const second: unknown[] = [];
    // An existing group resumes where it left off, whatever `from` says.
    const b = await bus.consume('task.*', (e) => second.push(e.data), { group: 'durable', from: 'start' });
    await eventually(() => second.length === 3, 'the three events published while closed');
    await bus.publish({ type: 'task.created', data: 5 });
    await eventually(() => second.length === 4, 'a live event');
    await settle();
    expect(first).toEqual([0, 1]);
    expect(second).toEqual([2, 3, 4, 5]);
    expect(b.stats()).toMatchObject({ acked: 4, pending: 0 });
  });

  it('creates a group once when two consume() calls race for it, with no duplicate delivery', async () => {
    const bus = newBus();
    await bus.publishBatch(tasks(0, 30));
    const handled: unknown[] = [];
    const handler = async (e: StoredEvent) => {
      handled.push(e.data);
      await settle(1);
    };
    const [a, b] = await Promise.all([
      bus.consume('task.*', handler, { group: 'raced', from: 'start' }),
      bus.consume('task.*', handler, { group: 'raced', from: 'start' }),
    ]);
    await bus.publishBatch(tasks(30, 10));
    await eventually(() => handled.length >= 40, 'all 40 events');
    await settle();
    expect(handled).toHaveLength(40);
    expect(new Set(handled).size).toBe(40);
    expect(a.stats().acked + b.stats().acked).toBe(40);
    expect(a.stats().acked).toBeGreaterThan(0);
    expect(b.stats().acked).toBeGreaterThan(0);
  });

  it('rejects a consumer whose patterns differ from those of the existing group', async () => {
    const bus = newBus();
    await bus.consume(['b.*', 'a.*'], () => {}, { group: 'g' });
    await expect(bus.consume(['a.*', 'b.*', 'a.*'], () => {}, { group: 'g' })).resolves.toBeDefined();
    await expect(bus.consume('a.*', () => {}, { group: 'g' })).rejects.toMatchObject({
      code: 'INVALID_OPTION',
      message: expect.stringContaining('fixed when it is created'),
    });
  });

  it('reports history the group lost to retention, then goes on from the oldest retained event', async () => {
    const errors: unknown[] = [];
    const bus = newBus({
      store: new MemoryEventStore({ maxEventsPerStream: 3 }),
      onError: (e) => errors.push(e),
    });
    const seen: unknown[] = [];
    const a = await bus.consume('task.*', (e) => seen.push(e.data), { group: 'slow' });
    await bus.publish({ type: 'task.created', data: 0 });
    await eventually(() => seen.length === 1, 'the first event');
    await a.close();
    await bus.publishBatch(tasks(1, 6)); // the store keeps only 4, 5 and 6
    await bus.consume('task.*', (e) => seen.push(e.data), { group: 'slow' });
    await eventually(() => seen.length === 4, 'the retained events');
    expect(seen).toEqual([0, 4, 5, 6]);
    expect(errors).toEqual([expect.objectContaining({ code: 'HISTORY_TRUNCATED' })]);
  });

  it('is woken by events another bus published to a shared store', async () => {
    const store = new SharedMemoryStore();
    const consuming = newBus({ store });
    const publishing = newBus({ store });
    await Promise.all([consuming.ready(), publishing.ready()]);
    const seen: unknown[] = [];
    await consuming.consume('task.*', (e) => seen.push(e.data), { group: 'remote' });
    await publishing.publishBatch(tasks(0, 5));
    await eventually(() => seen.length === 5, 'the remote events');
    expect(seen).toEqual([0, 1, 2, 3, 4]);
  });
});
