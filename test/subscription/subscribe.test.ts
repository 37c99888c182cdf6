import { describe, expect, it, vi } from 'vitest';
import { BufferOverflowError, EventBus, InvalidOptionError, type StoredEvent } from '../../src/index.js';

async function publishNumbers(bus: EventBus, from: number, to: number): Promise<void> {
  for (let i = from; i <= to; i++) await bus.publish({ type: 'n', data: i });
}

async function readAll(iterable: AsyncIterable<StoredEvent>): Promise<unknown[]> {
  const values: unknown[] = [];
  for await (const event of iterable) values.push(event.data);
  return values;
}

describe('subscribe', () => {
  it('yields matching events published from now on, in order', async () => {
    const bus = new EventBus({ store: null });
    await bus.publish({ type: 'job.old', data: 0 });
    const sub = bus.subscribe('job.*');
    await bus.publish({ type: 'job.a', data: 1 });
    await bus.publish({ type: 'other', data: 2 });
    await bus.publish({ type: 'job.b', data: 3 });
    sub.close();
    expect(await readAll(sub)).toEqual([1, 3]);
  });

  it('hands an event straight to a reader that is already waiting', async () => {
    const bus = new EventBus({ store: null });
    const sub = bus.subscribe('n');
    const first = sub.next();
    const second = sub.next();
    await publishNumbers(bus, 1, 2);
    expect((await first).value?.data).toBe(1);
    expect((await second).value?.data).toBe(2);
    expect(sub.stats()).toMatchObject({ received: 2, yielded: 2, buffered: 0 });
  });

  it('is released by break in for await', async () => {
    const bus = new EventBus({ store: null });
    const sub = bus.subscribe('n');
    await publishNumbers(bus, 1, 3);
    for await (const event of sub) if (event.data === 2) break;
    expect(bus.stats().subscriptions).toBe(0);
    expect(sub.stats().state).toBe('closed');
    expect(await sub.next()).toEqual({ done: true, value: undefined });
  });

  it('close() stops intake but still yields what was buffered', async () => {
    const bus = new EventBus({ store: null });
    const sub = bus.subscribe('n');
    await publishNumbers(bus, 1, 2);
    sub.close();
    await publishNumbers(bus, 3, 3);
    expect(bus.stats().subscriptions).toBe(0);
    expect(await readAll(sub)).toEqual([1, 2]);
  });

  it('return() ends at once and discards the buffer; a waiting reader gets done', async () => {
    const bus = new EventBus({ store: null });
    const sub = bus.subscribe('n');
    const waiting = bus.subscribe('n');
    const pending = waiting.next();
    await waiting.return();
    await publishNumbers(bus, 1, 2);
    await sub.return();
    expect(await pending).toEqual({ done: true, value: undefined });
    expect(await readAll(sub)).toEqual([]);
    expect(bus.stats().subscriptions).toBe(0);
  });

  it('ends quietly and releases when its signal aborts', async () => {
    const bus = new EventBus({ store: null });
    const controller = new AbortController();
    const sub = bus.subscribe('n', { signal: controller.signal });
    const reading = readAll(sub);
    await publishNumbers(bus, 1, 1);
    await new Promise((resolve) => setImmediate(resolve));
    controller.abort();
    expect(await reading).toEqual([1]);
    expect(bus.stats().subscriptions).toBe(0);
    const aborted = bus.subscribe('n', { signal: AbortSignal.abort() });
    expect(await aborted.next()).toEqual({ done: true, value: undefined });
    expect(bus.stats().subscriptions).toBe(0);
  });

  it('is released by await using (Symbol.asyncDispose)', async () => {
    const bus = new EventBus({ store: null });
    {
      await using sub = bus.subscribe('n');
      await publishNumbers(bus, 1, 1);
      expect((await sub.next()).value?.data).toBe(1);
      expect(bus.stats().subscriptions).toBe(1);
    }
    expect(bus.stats().subscriptions).toBe(0);
  });

  it('ends every iterator gracefully when the bus closes', async () => {
    const bus = new EventBus({ store: null });
    const sub = bus.subscribe('n');
    await publishNumbers(bus, 1, 2);
    const reading = readAll(sub);
    await bus.close();
    expect(await reading).toEqual([1, 2]);
  });

  it('rejects history replay without a store, and malformed buffer options', () => {
    const bus = new EventBus({ store: null });
    expect(() => bus.subscribe('n', { from: 'start' })).toThrow(InvalidOptionError);
    expect(() => bus.subscribe('n', { from: { after: 'x' } })).toThrow(/no store/);
    expect(() => bus.subscribe('n', { bufferSize: 0 })).toThrow(InvalidOptionError);
    expect(() => bus.subscribe('n', { overflow: 'explode' as never })).toThrow(/drop-oldest/);
    expect(bus.stats().subscriptions).toBe(0);
  });
});

describe('subscribe overflow policies', () => {
  it('drop-oldest keeps the newest bufferSize events and counts the drops', async () => {
    const bus = new EventBus({ store: null });
    const sub = bus.subscribe('n', { bufferSize: 3 });
    await publishNumbers(bus, 1, 5);
    sub.close();
    expect(await readAll(sub)).toEqual([3, 4, 5]);
    expect(sub.stats().dropped).toBe(2);
    expect(bus.stats().dropped).toBe(2);
  });

  it('drop-newest keeps the first bufferSize events and counts the drops', async () => {
    const bus = new EventBus({ store: null });
    const sub = bus.subscribe('n', { bufferSize: 3, overflow: 'drop-newest' });
    await publishNumbers(bus, 1, 5);
    sub.close();
    expect(await readAll(sub)).toEqual([1, 2, 3]);
    expect(bus.stats().dropped).toBe(2);
  });

  it('error yields the buffered events, then throws BufferOverflowError and reports it', async () => {
    const onError = vi.fn();
    const bus = new EventBus({ store: null, onError });
    const sub = bus.subscribe('n', { bufferSize: 2, overflow: 'error' });
    await publishNumbers(bus, 1, 4);
    const values: unknown[] = [];
    const error = await (async () => {
      for await (const event of sub) values.push(event.data);
    })().catch((e: unknown) => e);
    expect(values).toEqual([1, 2]);
    expect(error).toBeInstanceOf(BufferOverflowError);
    expect(onError).toHaveBeenCalledWith(expect.any(BufferOverflowError), {
      source: 'subscription',
      patterns: ['n'],
    });
    expect(bus.stats().subscriptions).toBe(0);
  });

  it('block makes publish wait for the reader, losing nothing and keeping order', async () => {
    const bus = new EventBus({ store: null });
    const sub = bus.subscribe('n', { bufferSize: 2, overflow: 'block' });
    let resolved = 0;
    const publishing = Promise.all(
      [1, 2, 3, 4, 5].map((n) => bus.publish({ type: 'n', data: n }).then(() => resolved++)),
    );
    await new Promise((resolve) => setImmediate(resolve));
    expect(resolved).toBe(2);
    expect(sub.stats().buffered).toBe(5);
    const values: unknown[] = [];
    for await (const event of sub) {
      values.push(event.data);
      if (values.length === 5) break;
    }
    await publishing;
    expect(values).toEqual([1, 2, 3, 4, 5]);
    expect(bus.stats().dropped).toBe(0);
  });

  it('block lets waiting publishers go when the subscription closes, and still yields their events', async () => {
    const bus = new EventBus({ store: null });
    const sub = bus.subscribe('n', { bufferSize: 1, overflow: 'block' });
    const publishing = Promise.all([1, 2, 3].map((n) => bus.publish({ type: 'n', data: n })));
    await new Promise((resolve) => setImmediate(resolve));
    sub.close();
    await publishing;
    expect(await readAll(sub)).toEqual([1, 2, 3]);
  });
});
