import { afterEach, describe, expect, it, vi } from 'vitest';
import { EventBus } from '../../src/index.js';
import { sseStream } from '../../src/sse/index.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('sseStream drainTimeoutMs', () => {
  it('releases the subscription and errors with TIMEOUT when the consumer holds a chunk past the bound', async () => {
    vi.useFakeTimers();
    const bus = new EventBus();
    // drainTimeoutMs defaults to 2 × heartbeatMs.
    const reader = sseStream(bus, { pattern: '**', heartbeatMs: 1000 }).getReader();
    const first = reader.read();
    await bus.publish({ type: 'a', data: 1 });
    expect((await first).done).toBe(false);
    // The consumer stops asking: nothing more is read from the subscription, then the bound.
    await vi.advanceTimersByTimeAsync(1999);
    expect(bus.stats().subscriptions).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(bus.stats().subscriptions).toBe(0);
    await expect(reader.read()).rejects.toMatchObject({
      code: 'TIMEOUT',
      message: expect.stringContaining('drainTimeoutMs (2000 ms)'),
    });
    expect(vi.getTimerCount()).toBe(0);
  });

  it('bounds a stream that is never read at all', async () => {
    vi.useFakeTimers();
    const bus = new EventBus();
    const stream = sseStream(bus, { pattern: '**', drainTimeoutMs: 500 });
    await bus.publish({ type: 'a', data: 1 });
    await vi.advanceTimersByTimeAsync(500);
    expect(bus.stats().subscriptions).toBe(0);
    await expect(stream.getReader().read()).rejects.toMatchObject({ code: 'TIMEOUT' });
  });

  it('never cuts a consumer that is waiting for events, however long, nor one that keeps reading', async () => {
    vi.useFakeTimers();
    const bus = new EventBus();
    const reader = sseStream(bus, { pattern: '**', heartbeatMs: 0, drainTimeoutMs: 100 }).getReader();
    const waiting = reader.read();
    await vi.advanceTimersByTimeAsync(3_600_000);
    expect(bus.stats().subscriptions).toBe(1);
    await bus.publish({ type: 'a', data: 0 });
    await waiting;
    for (let n = 1; n <= 20; n++) {
      await vi.advanceTimersByTimeAsync(99); // the consumer takes its time, within the bound
      const next = reader.read();
      await bus.publish({ type: 'a', data: n });
      expect((await next).done).toBe(false);
    }
    expect(bus.stats().subscriptions).toBe(1);
    await reader.cancel();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('defaults to 30 s with heartbeats off, and 0 turns it off', async () => {
    vi.useFakeTimers();
    const bus = new EventBus();
    sseStream(bus, { pattern: '**', heartbeatMs: 0 });
    sseStream(bus, { pattern: '**', drainTimeoutMs: 0 });
    await vi.advanceTimersByTimeAsync(29_999);
    expect(bus.stats().subscriptions).toBe(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(bus.stats().subscriptions).toBe(1);
    await vi.advanceTimersByTimeAsync(3_600_000);
    expect(bus.stats().subscriptions).toBe(1);
    expect(() => sseStream(bus, { pattern: '**', drainTimeoutMs: 1.5 })).toThrow(/drainTimeoutMs/);
  });
});
