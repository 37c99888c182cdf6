import { afterEach, describe, expect, it, vi } from 'vitest';
import { ClosedError, EventBus, TimeoutError } from '../../src/index.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('once', () => {
  it('resolves with the first matching event and then unsubscribes', async () => {
    const bus = new EventBus({ store: null });
    const next = bus.once('job.*', { filter: (e) => e.data === 2 });
    await bus.publish({ type: 'job.started', data: 1 });
    await bus.publish({ type: 'job.started', data: 2 });
    await expect(next).resolves.toMatchObject({ type: 'job.started', data: 2 });
    expect(bus.stats().subscriptions).toBe(0);
  });

  it('rejects with TimeoutError after timeoutMs and leaves no subscription behind', async () => {
    vi.useFakeTimers();
    const bus = new EventBus({ store: null });
    const next = bus.once('never', { timeoutMs: 500 });
    const outcome = next.catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(499);
    expect(bus.stats().subscriptions).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(await outcome).toBeInstanceOf(TimeoutError);
    expect(bus.stats().subscriptions).toBe(0);
  });

  it('clears its timer once an event arrives', async () => {
    vi.useFakeTimers();
    const bus = new EventBus({ store: null });
    const next = bus.once('a', { timeoutMs: 1000 });
    await bus.publish({ type: 'a', data: null });
    await next;
    expect(vi.getTimerCount()).toBe(0);
  });

  it('rejects with the abort reason when its signal aborts, before or after the call', async () => {
    const bus = new EventBus({ store: null });
    const controller = new AbortController();
    const next = bus.once('a', { signal: controller.signal });
    controller.abort(new Error('user left'));
    await expect(next).rejects.toThrow('user left');
    await expect(bus.once('a', { signal: AbortSignal.abort() })).rejects.toMatchObject({
      name: 'AbortError',
    });
    expect(bus.stats().subscriptions).toBe(0);
  });

  it('rejects with ClosedError when the bus closes first', async () => {
    const bus = new EventBus({ store: null });
    const next = bus.once('a');
    await bus.close();
    await expect(next).rejects.toBeInstanceOf(ClosedError);
    expect(() => bus.once('a')).toThrow(ClosedError);
  });

  it('rejects a timeout that is not a positive integer', () => {
    const bus = new EventBus({ store: null });
    expect(() => bus.once('a', { timeoutMs: -1 })).toThrow(/timeoutMs/);
  });
});
