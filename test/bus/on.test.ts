import { describe, expect, it, vi } from 'vitest';
import { type ErrorContext, EventBus, InvalidOptionError, InvalidPatternError } from '../../src/index.js';

describe('on', () => {
  it('delivers task.created to task.* and ** but not to task.*.x', async () => {
    const bus = new EventBus({ store: null });
    const got: string[] = [];
    bus.on('task.*', () => got.push('task.*'));
    bus.on('**', () => got.push('**'));
    bus.on('task.*.x', () => got.push('task.*.x'));
    await bus.publish({ type: 'task.created', data: null });
    expect(got).toEqual(['task.*', '**']);
  });

  it('runs handlers in subscription order, across exact and wildcard patterns', async () => {
    const bus = new EventBus({ store: null });
    const order: number[] = [];
    bus.on('**', () => order.push(1));
    bus.on('job.done', () => order.push(2));
    bus.on('job.*', () => order.push(3));
    bus.on('*.done', () => order.push(4));
    await bus.publish({ type: 'job.done', data: null });
    // A late subscriber goes last, also for a type that is already cached.
    bus.on('job.**', () => order.push(5));
    await bus.publish({ type: 'job.done', data: null });
    expect(order).toEqual([1, 2, 3, 4, 1, 2, 3, 4, 5]);
  });

  it('runs the same handler twice when it is subscribed twice, and removing one leaves the other', async () => {
    const bus = new EventBus({ store: null });
    const handler = vi.fn();
    const off = bus.on('a', handler);
    bus.on('a', handler);
    await bus.publish({ type: 'a', data: null });
    off();
    await bus.publish({ type: 'a', data: null });
    expect(handler).toHaveBeenCalledTimes(3);
  });

  it('delivers once to a subscriber of several patterns that all match', async () => {
    const bus = new EventBus({ store: null });
    const handler = vi.fn();
    bus.on(['task.*', '**', 'task.created'], handler);
    await bus.publish({ type: 'task.created', data: null });
    await bus.publish({ type: 'user.created', data: null });
    expect(handler.mock.calls.map(([e]) => e.type)).toEqual(['task.created', 'user.created']);
  });

  it('filters by stream and by a filter function', async () => {
    const bus = new EventBus({ store: null });
    const got: string[] = [];
    bus.on('**', (e) => got.push(`stream:${e.data}`), { stream: 'op-1' });
    bus.on('**', (e) => got.push(`admin:${e.data}`), { filter: (e) => e.meta?.role === 'admin' });
    await bus.publish({ type: 'a', stream: 'op-1', data: 1 });
    await bus.publish({ type: 'a', stream: 'op-2', data: 2, meta: { role: 'admin' } });
    expect(got).toEqual(['stream:1', 'admin:2']);
  });

  it('stops delivering after unsubscribe, including during a dispatch in progress', async () => {
    const bus = new EventBus({ store: null });
    const got: string[] = [];
    let offSecond = (): void => {};
    bus.on('a', () => {
      got.push('first');
      offSecond();
    });
    offSecond = bus.on('a', () => got.push('second'));
    await bus.publish({ type: 'a', data: null });
    expect(got).toEqual(['first']);
  });

  it('does not deliver the current event to a subscriber added by a handler', async () => {
    const bus = new EventBus({ store: null });
    const got: number[] = [];
    bus.on('a', (e) => {
      if (e.data === 1) bus.on('a', (late) => got.push(late.data as number));
    });
    await bus.publish({ type: 'a', data: 1 });
    await bus.publish({ type: 'a', data: 2 });
    expect(got).toEqual([2]);
  });

  it('removes the subscription when its signal aborts, and ignores an already aborted signal', async () => {
    const bus = new EventBus({ store: null });
    const handler = vi.fn();
    const controller = new AbortController();
    bus.on('a', handler, { signal: controller.signal });
    await bus.publish({ type: 'a', data: null });
    controller.abort();
    await bus.publish({ type: 'a', data: null });
    bus.on('a', handler, { signal: AbortSignal.abort() });
    await bus.publish({ type: 'a', data: null });
    expect(handler).toHaveBeenCalledTimes(1);
    expect(bus.stats().subscriptions).toBe(0);
  });

  it('isolates a throwing handler: the others run, publish resolves, onError gets the context', async () => {
    const errors: [unknown, ErrorContext][] = [];
    const bus = new EventBus({ store: null, onError: (error, context) => errors.push([error, context]) });
    const after = vi.fn();
    bus.on('task.*', () => {
      throw new Error('boom');
    });
    bus.on('task.*', async () => {
      throw new Error('async boom');
    });
    bus.on('**', after, {
      filter: () => {
        throw new Error('bad filter');
      },
    });
    bus.on('**', after);
    await expect(bus.publish({ type: 'task.created', data: null })).resolves.toMatchObject({
      status: 'delivered',
    });
    await bus.drain();
    expect(after).toHaveBeenCalledTimes(1);
    expect(errors.map(([e, c]) => [(e as Error).message, c.source, c.patterns, c.event?.type])).toEqual([
      ['boom', 'handler', ['task.*'], 'task.created'],
      ['bad filter', 'filter', ['**'], 'task.created'],
      ['async boom', 'handler', ['task.*'], 'task.created'],
    ]);
    expect(bus.stats().handlerErrors).toBe(3);
  });

  it('rejects malformed patterns and options with typed errors', () => {
    const bus = new EventBus({ store: null });
    expect(() => bus.on('task*', () => {})).toThrow(InvalidPatternError);
    expect(() => bus.on([], () => {})).toThrow(InvalidPatternError);
    expect(() => bus.on('a', 'nope' as never)).toThrow(InvalidOptionError);
    expect(() => bus.on('a', () => {}, { stream: '' })).toThrow(InvalidOptionError);
    expect(() => bus.on('a', () => {}, { signal: {} as AbortSignal })).toThrow(InvalidOptionError);
    expect(bus.stats().subscriptions).toBe(0);
  });
});

describe('async handlers', () => {
  it('are not awaited by publish, run with their concurrency, and drain() waits for them', async () => {
    const bus = new EventBus({ store: null });
    let running = 0;
    let peak = 0;
    const release: (() => void)[] = [];
    let finished = 0;
    bus.on(
      'job',
      async () => {
        running++;
        peak = Math.max(peak, running);
        await new Promise<void>((resolve) => release.push(resolve));
        running--;
        finished++;
      },
      { concurrency: 2 },
    );
    for (let i = 0; i < 5; i++) await bus.publish({ type: 'job', data: i });
    expect(bus.stats().pendingHandlers).toBe(5);
    let drained = false;
    const draining = bus.drain().then(() => {
      drained = true;
    });
    while (finished < 5) {
      await new Promise((resolve) => setImmediate(resolve));
      release.shift()?.();
    }
    await draining;
    expect(drained).toBe(true);
    expect(peak).toBe(2);
    expect(bus.stats().pendingHandlers).toBe(0);
  });

  it('treats a plain function that returns a promise as async from then on', async () => {
    const errors: unknown[] = [];
    const bus = new EventBus({ store: null, onError: (e) => errors.push(e) });
    bus.on('a', () => Promise.reject(new Error('later')));
    await bus.publish({ type: 'a', data: null });
    await bus.publish({ type: 'a', data: null });
    await bus.drain();
    expect(errors).toHaveLength(2);
  });
});
