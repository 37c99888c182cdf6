import { describe, expect, it } from 'vitest';
import {
  type BusTelemetry,
  type ErrorContext,
  EventBus,
  EventTooLargeError,
  InvalidEventError,
  InvalidOptionError,
  type ProcessOutcome,
  type ProcessStart,
  type PublishOutcome,
  type StoredEvent,
} from '../../src/index.js';
import { eventually } from '../groups/support.js';

/** A telemetry that records what the bus tells it, and tags each event with a fake trace context. */
function recorder() {
  const log = {
    publishes: [] as {
      batch: boolean;
      count: number;
      injected: string[];
      ended?: PublishOutcome[];
      error?: unknown;
    }[],
    processes: [] as { start: ProcessStart; inside: boolean[]; outcome?: ProcessOutcome }[],
    attached: 0,
    /** True while a process scope's run() is making its call. */
    inScope: false,
  };
  const telemetry: BusTelemetry = {
    publish(start) {
      const record = { ...start, injected: [] as string[] } as (typeof log.publishes)[number];
      log.publishes.push(record);
      return {
        inject(event) {
          record.injected.push(event.id);
          return {
            traceparent: `00-${'a'.repeat(32)}-${String(record.injected.length).padStart(16, '0')}-01`,
          };
        },
        end(outcomes, error) {
          record.ended = outcomes ? [...outcomes] : undefined;
          record.error = error;
        },
      };
    },
    process(start) {
      const record = { start, inside: [] as boolean[] } as (typeof log.processes)[number];
      log.processes.push(record);
      return {
        run(call) {
          log.inScope = true;
          try {
            return call();
          } finally {
            log.inScope = false;
          }
        },
        end(outcome) {
          record.outcome = outcome;
        },
      };
    },
    attach(source) {
      log.attached++;
      expect(source.stats().published).toBe(0);
    },
  };
  return { log, telemetry };
}

describe('publish scopes', () => {
  it('one scope per publish: the stamped event is injected, its trace context stored and delivered, the outcome reported', async () => {
    const { log, telemetry } = recorder();
    const bus = new EventBus({ telemetry });
    expect(log.attached).toBe(1);
    const seen: StoredEvent[] = [];
    bus.on('task.*', (event) => {
      seen.push(event);
    });
    const meta = { role: 'admin' };
    const result = await bus.publish({ type: 'task.created', data: 1, meta });
    expect(log.publishes).toHaveLength(1);
    expect(log.publishes[0]).toMatchObject({ batch: false, count: 1, injected: [result.id] });
    expect(log.publishes[0]!.ended).toEqual([
      expect.objectContaining({ id: result.id, status: 'delivered' }),
    ]);
    const traceparent = `00-${'a'.repeat(32)}-0000000000000001-01`;
    expect(seen[0]!.meta).toEqual({ role: 'admin', traceparent });
    // The caller's object is not touched: it may be reused for other events.
    expect(meta).toEqual({ role: 'admin' });
    const stored = await bus.subscribe('task.*', { from: 'start' })[Symbol.asyncIterator]().next();
    expect(stored.value?.meta).toEqual({ role: 'admin', traceparent });
    await bus.close();
  });

  it('one scope per batch, an injection per event, outcomes in input order (duplicates included)', async () => {
    const { log, telemetry } = recorder();
    const bus = new EventBus({ telemetry });
    const results = await bus.publishBatch([
      { id: 'x1', type: 'a', data: 1 },
      { id: 'x2', type: 'b', data: 2 },
    ]);
    await bus.publish({ id: 'x1', type: 'a', data: 1 });
    expect(log.publishes[0]).toMatchObject({ batch: true, count: 2, injected: ['x1', 'x2'] });
    expect(log.publishes[0]!.ended).toEqual(results);
    expect(log.publishes[1]!.ended).toEqual([expect.objectContaining({ id: 'x1', status: 'duplicate' })]);
    await bus.close();
  });

  it('a publish that rejects ends its scope with the error', async () => {
    const { log, telemetry } = recorder();
    const bus = new EventBus({ telemetry });
    const error = await bus.publish({ type: '', data: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidEventError);
    expect(log.publishes[0]).toMatchObject({ ended: undefined, error });
    await bus.close();
  });

  it('the injected keys count toward maxEventBytes', async () => {
    const probe = new EventBus({ store: null });
    const event = { id: 'e', type: 'a', time: 0, data: 'x'.repeat(100) };
    const plain = await probe.publish(event);
    expect(plain.status).toBe('delivered');
    // Just big enough without the trace context: measured as the bus measures it, in JSON.
    const size = JSON.stringify({ ...event, stream: 'default', cursor: 'e' }).length + 10;
    const { telemetry } = recorder();
    const traced = new EventBus({ store: null, telemetry, maxEventBytes: size });
    await expect(traced.publish(event)).rejects.toBeInstanceOf(EventTooLargeError);
    const untraced = new EventBus({ store: null, maxEventBytes: size });
    expect((await untraced.publish(event)).status).toBe('delivered');
    await Promise.all([probe.close(), traced.close(), untraced.close()]);
  });
});

describe('process scopes', () => {
  it('every on() handler call runs inside run() and ends ok, or with the error it threw or rejected with', async () => {
    const { log, telemetry } = recorder();
    const errors: ErrorContext['source'][] = [];
    const bus = new EventBus({
      store: null,
      telemetry,
      onError: (_e, context) => errors.push(context.source),
    });
    const inside: boolean[] = [];
    bus.on('job.*', (event) => {
      inside.push(log.inScope);
      if (event.data === 'throw') throw new Error('sync');
    });
    bus.on('job.done', async (event) => {
      if (event.data === 'reject') throw new Error('async');
    });
    await bus.publish({ type: 'job.done', data: 'ok' });
    await bus.publish({ type: 'job.done', data: 'throw' });
    await bus.publish({ type: 'job.done', data: 'reject' });
    await bus.drain();
    expect(inside).toEqual([true, true, true]);
    const outcomes = log.processes.map((p) => [p.start.patterns, p.start.event.data, p.outcome?.status]);
    expect(outcomes).toEqual([
      [['job.*'], 'ok', 'ok'],
      [['job.done'], 'ok', 'ok'],
      [['job.*'], 'throw', 'error'],
      [['job.done'], 'throw', 'ok'],
      [['job.*'], 'reject', 'ok'],
      [['job.done'], 'reject', 'error'],
    ]);
    expect(log.processes.every((p) => p.start.kind === 'handler')).toBe(true);
    // Handler isolation is unchanged: both failures still reach onError as handler failures.
    expect(errors).toEqual(['handler', 'handler']);
    await bus.close();
  });

  it('a consumer-group delivery reports its group, its delivery count, and retry then dead letter', async () => {
    const { log, telemetry } = recorder();
    const bus = new EventBus({ telemetry });
    await bus.consume(
      'job.*',
      () => {
        throw new Error('broken');
      },
      { group: 'workers', maxDeliveries: 2, retryDelayMs: 1 },
    );
    await bus.publish({ type: 'job.run', data: 1 });
    await eventually(() => log.processes.filter((p) => p.outcome).length === 2, 'two deliveries');
    expect(log.processes.map((p) => [p.start.kind, p.start.group, p.start.deliveries])).toEqual([
      ['group', 'workers', 1],
      ['group', 'workers', 2],
    ]);
    expect(
      log.processes.map((p) => p.outcome && 'disposition' in p.outcome && p.outcome.disposition),
    ).toEqual(['retry', 'dead_letter']);
    const [letter] = await bus.deadLetters('workers').list();
    // The trace context stays with the event in the dead letters (and through a redrive).
    expect(letter!.event.meta).toHaveProperty('traceparent');
    await bus.close();
  });
});

describe('a failing telemetry', () => {
  it('is reported to onError (source telemetry) and never fails the publish or the delivery', async () => {
    const sources: ErrorContext['source'][] = [];
    const fail = () => {
      throw new Error('tracer down');
    };
    const bus = new EventBus({
      store: null,
      telemetry: { publish: () => ({ inject: fail, end: fail }), process: fail, attach: fail },
      onError: (_error, context) => sources.push(context.source),
    });
    let calls = 0;
    bus.on('a', () => {
      calls++;
    });
    const result = await bus.publish({ type: 'a', data: 1 });
    await Promise.resolve();
    expect(result.status).toBe('delivered');
    expect(calls).toBe(1);
    // attach, inject, process, end: four reports, none of them a failed publish.
    expect(sources).toEqual(['telemetry', 'telemetry', 'telemetry', 'telemetry']);
    await bus.close();
  });

  it('a telemetry that is not an object of functions is refused up front', () => {
    expect(() => new EventBus({ telemetry: 5 as never })).toThrow(InvalidOptionError);
    expect(() => new EventBus({ telemetry: { publish: 1 } as never })).toThrow(/telemetry\.publish/);
  });
});

it('without telemetry nothing is added to events', async () => {
  const bus = new EventBus();
  const seen: StoredEvent[] = [];
  bus.on('a', (event) => {
    seen.push(event);
  });
  await bus.publish({ type: 'a', data: 1 });
  expect(seen[0]!.meta).toBeUndefined();
  await bus.close();
});
