import { describe, expect, it } from 'vitest';
import { EventBus, MemoryEventStore } from '../../src/index.js';
import { createFakeClock } from '../../src/testing/index.js';

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('every wait is bounded and cancellable', () => {
  it("publish({ signal }) ends a 'delay' rate-limit wait: nothing is published", async () => {
    const clock = createFakeClock();
    const bus = new EventBus({
      store: null,
      clock: clock.now,
      rateLimit: { rate: 1, intervalMs: 60_000, burst: 1, onLimit: 'delay' },
    });
    const seen: unknown[] = [];
    bus.on('t', (event) => void seen.push(event.data));
    await bus.publish({ type: 't', data: 1 });
    const controller = new AbortController();
    const waiting = bus.publish({ id: 'w', type: 't', data: 2 }, { signal: controller.signal });
    await tick();
    controller.abort(new Error('client went away'));
    await expect(waiting).rejects.toThrow('client went away');
    expect(seen).toEqual([1]);
    // Nothing of it stayed behind: the same id goes through once a token is back.
    clock.advance(60_000);
    expect((await bus.publish({ id: 'w', type: 't', data: 2 })).status).toBe('delivered');
    expect(seen).toEqual([1, 2]);
  });

  it('publish({ signal }) ends the wait of a full block subscription (no store): the event stays queued for the reader', async () => {
    const bus = new EventBus({ store: null });
    const sub = bus.subscribe('n', { bufferSize: 1, overflow: 'block' });
    await bus.publish({ type: 'n', data: 1 });
    const controller = new AbortController();
    const blocked = bus.publish({ type: 'n', data: 2 }, { signal: controller.signal });
    let settled = false;
    void blocked.then(() => {
      settled = true;
    });
    await tick();
    expect(settled).toBe(false);
    controller.abort();
    const result = await blocked;
    expect(result).toMatchObject({ status: 'delivered', deliveredTo: 1 });
    const values = [(await sub.next()).value?.data, (await sub.next()).value?.data];
    expect(values).toEqual([1, 2]);
  });

  it('an already aborted signal rejects before anything is published', async () => {
    const bus = new EventBus();
    const seen: unknown[] = [];
    bus.on('t', (event) => void seen.push(event));
    const signal = AbortSignal.abort(new Error('too late'));
    await expect(bus.publish({ type: 't', data: 1 }, { signal })).rejects.toThrow('too late');
    await expect(bus.publishBatch([{ type: 't', data: 1 }], { signal })).rejects.toThrow('too late');
    expect(seen).toEqual([]);
    expect((await bus.storeStats())?.events).toBe(0);
  });

  it("publishBatch({ signal }) ends a 'delay' wait: the batch publishes nothing", async () => {
    const clock = createFakeClock();
    const bus = new EventBus({
      clock: clock.now,
      rateLimit: { rate: 1, intervalMs: 60_000, burst: 1, onLimit: 'delay' },
    });
    const controller = new AbortController();
    const batch = bus.publishBatch(
      [
        { type: 't', data: 1 },
        { type: 't', data: 2 },
      ],
      { signal: controller.signal },
    );
    await tick();
    controller.abort(new Error('stop'));
    await expect(batch).rejects.toThrow('stop');
    expect((await bus.storeStats())?.events).toBe(0);
  });

  it('rejects a signal that is not AbortSignal-shaped, accepts one from another realm', async () => {
    const bus = new EventBus();
    await expect(bus.publish({ type: 't', data: 1 }, { signal: {} as AbortSignal })).rejects.toMatchObject({
      code: 'INVALID_OPTION',
    });
    const foreign = { aborted: false, addEventListener() {}, removeEventListener() {}, throwIfAborted() {} };
    const result = await bus.publish({ type: 't', data: 1 }, { signal: foreign as unknown as AbortSignal });
    expect(result.status).toBe('delivered');
  });

  it('close({ timeoutMs }) settles even when a handler never does', async () => {
    const bus = new EventBus();
    bus.on('t', () => new Promise(() => {}));
    await bus.publish({ type: 't', data: 1 });
    await bus.close({ timeoutMs: 10 });
    expect(bus.stats().pendingHandlers).toBe(1);
  });

  it("close() ends a publish still waiting for a 'delay' rate limit: ClosedError, nothing stored", async () => {
    // Found by the simulation (seed 44493): the waiting publish stored its events after close().
    const clock = createFakeClock();
    const store = new MemoryEventStore();
    const bus = new EventBus({ store, clock: clock.now, rateLimit: { rate: 1, burst: 1, onLimit: 'delay' } });
    await bus.publish({ type: 't', data: 0 }); // takes the only token
    const waiting = bus.publish({ type: 't', data: 1 }).catch((error: unknown) => error);
    const batch = bus.publishBatch([{ id: 'b1', type: 't', data: 2 }]).catch((error: unknown) => error);
    await bus.close();
    expect(await waiting).toMatchObject({ code: 'CLOSED' });
    expect(await batch).toMatchObject({ code: 'CLOSED' });
    clock.advance(60_000);
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect((await store.read({})).events.map((e) => e.data)).toEqual([0]);
    expect(bus.stats().rateLimit?.waiting ?? 0).toBe(0);
  });

  it('close() ends a publish waiting behind another publish of its id (no store)', async () => {
    const bus = new EventBus({ store: null, rateLimit: { rate: 1, burst: 1, onLimit: 'delay' } });
    await bus.publish({ type: 't', data: 0 }); // the only token: the next publish of 'x' waits for one
    const first = bus.publish({ id: 'x', type: 't', data: 1 }).catch((error: unknown) => error);
    const second = bus.publish({ id: 'x', type: 't', data: 1 }).catch((error: unknown) => error);
    await bus.close();
    expect(await first).toMatchObject({ code: 'CLOSED' });
    expect(await second).toMatchObject({ code: 'CLOSED' });
  });

  it('close({ timeoutMs }) is one budget for consumer-group handlers and on() handlers alike', async () => {
    // Found by the simulation (seed 22649 of 40,000): a consumer's handler in flight held the
    // close until its ackTimeoutMs, and only then did the close's own timeout start.
    const bus = new EventBus();
    let started!: () => void;
    const running = new Promise<void>((resolve) => (started = resolve));
    await bus.consume(
      't',
      () => {
        started();
        return new Promise(() => {}); // ignores its signal too
      },
      { group: 'g', ackTimeoutMs: 600_000 },
    );
    bus.on('t', () => new Promise(() => {}));
    await bus.publish({ type: 't', data: 1 });
    await running;
    await bus.close({ timeoutMs: 10 }); // without the one budget: waits for the 10-minute ackTimeoutMs
    expect(bus.stats().pendingHandlers).toBe(1);
  });
});

describe('found by the simulation', () => {
  it('without a store, a publishBatch and a concurrent publish of one id deliver it once', async () => {
    const bus = new EventBus({ store: null, rateLimit: { rate: 1000, burst: 1, onLimit: 'delay' } });
    const calls: string[] = [];
    bus.on('t', (event) => void calls.push(event.id));
    await bus.publish({ type: 't', data: 0 }); // the only token: what follows waits
    const [batch, single] = await Promise.all([
      bus.publishBatch([
        { id: 'b', type: 't', data: 1 },
        { id: 'x', type: 't', data: 2 },
      ]),
      bus.publish({ id: 'x', type: 't', data: 2 }),
    ]);
    expect(calls.filter((id) => id === 'x')).toHaveLength(1);
    expect([batch[1]!.status, single.status].sort()).toEqual(['delivered', 'duplicate']);
  });

  it('a publish waiting behind another publish of the same id obeys its own signal', async () => {
    const clock = createFakeClock();
    const bus = new EventBus({
      store: null,
      clock: clock.now,
      rateLimit: { rate: 1, intervalMs: 60_000, burst: 1, onLimit: 'delay' },
    });
    await bus.publish({ type: 't', data: 0 });
    const stopFirst = new AbortController();
    // Waits for a token, holding the id.
    const first = bus.publish({ id: 'same', type: 't', data: 1 }, { signal: stopFirst.signal });
    const controller = new AbortController();
    const second = bus.publish({ id: 'same', type: 't', data: 1 }, { signal: controller.signal });
    await tick();
    controller.abort(new Error('gave up'));
    await expect(second).rejects.toThrow('gave up');
    stopFirst.abort(new Error('done'));
    await expect(first).rejects.toThrow('done');
  });

  it('close() lets go of publishes held by a full handler queue (no store)', async () => {
    const bus = new EventBus({ store: null });
    bus.on('t', () => new Promise(() => {}), { maxPending: 1 });
    await bus.publish({ type: 't', data: 1 }); // running
    await bus.publish({ type: 't', data: 2 }); // queued
    const held = bus.publish({ type: 't', data: 3 }); // waits for room
    await tick();
    await bus.close({ timeoutMs: 10 });
    await expect(held).resolves.toMatchObject({ status: 'delivered' });
  });
});

describe('on() queues', () => {
  it('keep one subscription in delivery order at concurrency 1 (the default)', async () => {
    const bus = new EventBus({ store: null });
    const order: number[] = [];
    bus.on('t', async (event) => {
      const n = event.data as number;
      if (n % 2 === 0) await tick(); // the even ones are slower
      order.push(n);
    });
    for (let n = 0; n < 20; n++) await bus.publish({ type: 't', data: n });
    await bus.drain();
    expect(order).toEqual(Array.from({ length: 20 }, (_, n) => n));
  });

  it('without a store, a full queue makes publish wait (backpressure), and memory stays bounded', async () => {
    const bus = new EventBus({ store: null });
    const release: (() => void)[] = [];
    const handled: number[] = [];
    bus.on(
      't',
      async (event) => {
        await new Promise<void>((resolve) => release.push(resolve));
        handled.push(event.data as number);
      },
      { maxPending: 2 },
    );
    for (let n = 0; n < 3; n++) await bus.publish({ type: 't', data: n }); // 1 running + 2 queued
    let fourthDone = false;
    const fourth = bus.publish({ type: 't', data: 3 }).then(() => {
      fourthDone = true;
    });
    await tick();
    expect(fourthDone).toBe(false);
    expect(bus.stats().pendingHandlers).toBe(4);
    release.shift()!();
    await fourth;
    while (handled.length < 4) {
      await tick();
      release.shift()?.();
    }
    expect(handled).toEqual([0, 1, 2, 3]);
  });

  it('with a store, a full queue catches up from the store in order, and applies the filter', async () => {
    const bus = new EventBus({ store: new MemoryEventStore({ maxEventsPerStream: 1000 }) });
    const handled: number[] = [];
    bus.on(
      't',
      async (event) => {
        await tick();
        handled.push(event.data as number);
      },
      { maxPending: 3, filter: (event) => (event.data as number) % 3 !== 0 },
    );
    for (let n = 0; n < 100; n++) await bus.publish({ type: 't', data: n });
    await bus.drain();
    expect(handled).toEqual(Array.from({ length: 100 }, (_, n) => n).filter((n) => n % 3 !== 0));
  });

  it('a handler with maxPending: 1 catches up in pages, not one store read per missed event', async () => {
    const store = new MemoryEventStore();
    const reads: number[] = [];
    const read = store.read.bind(store);
    store.read = async (query) => {
      const page = await read(query);
      reads.push(page.events.length);
      return page;
    };
    const bus = new EventBus({ store });
    const { handled, gate } = gatedHandler(bus);
    for (let n = 0; n < 50; n++) await bus.publish({ type: 't', data: n });
    gate();
    await bus.drain();
    // 0 ran, 1 was queued, 2..49 came from the store: every one once, in order.
    expect(handled).toEqual(Array.from({ length: 50 }, (_, n) => n));
    // 48 missed events in pages of 16 (and a last read that finds nothing more), not 48 reads.
    expect(reads.filter((n) => n > 0)).toEqual([16, 16, 16]);
    expect(reads.length).toBeLessThanOrEqual(5);
  });

  it('a catch-up that retention overtook reports HISTORY_TRUNCATED to onError and goes on', async () => {
    const errors: { code?: string }[] = [];
    const bus = new EventBus({
      store: new MemoryEventStore({ maxEventsPerStream: 5 }),
      onError: (error) => errors.push(error as { code?: string }),
    });
    const { handled, gate } = gatedHandler(bus);
    for (let n = 0; n < 20; n++) await bus.publish({ type: 't', data: n });
    gate();
    await bus.drain();
    expect(errors).toMatchObject([{ code: 'HISTORY_TRUNCATED' }]);
    // 0 ran, 1 was queued; 2..14 were trimmed before the catch-up could read them.
    expect(handled).toEqual([0, 1, 15, 16, 17, 18, 19]);
  });
});

/**
 * An async `on('t')` handler with `maxPending: 1` whose calls wait for `gate()`: one call runs,
 * one waits in the queue, and the rest fall behind (with a store, they are caught up from it).
 */
function gatedHandler(bus: EventBus): { handled: number[]; gate: () => void } {
  const handled: number[] = [];
  let gate!: () => void;
  const opened = new Promise<void>((resolve) => {
    gate = resolve;
  });
  bus.on(
    't',
    async (event) => {
      await opened;
      handled.push(event.data as number);
    },
    { maxPending: 1 },
  );
  return { handled, gate };
}
