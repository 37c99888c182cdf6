import { afterEach, describe, expect, it, vi } from 'vitest';

/**
 * A bus loads its shared-store delivery (live feed, publish waits) on first need, so that a
 * memory-store bundle leaves it out (see src/bus/load-shared-delivery.ts). Each test starts from
 * fresh modules, so the code is not loaded yet when the bus is made: what a process sees the
 * first time. The shared-store tests elsewhere cover the delivery itself.
 */
async function freshModules() {
  vi.resetModules();
  const busline = await import('../../src/index.js');
  const { SharedMemoryStore } = await import('../support/shared-memory-store.js');
  const loader = await import('../../src/bus/load-shared-delivery.js');
  return { ...busline, SharedMemoryStore, loader };
}

afterEach(() => {
  vi.resetModules();
});

describe('a bus on a shared store before its delivery code has loaded', () => {
  it('loads it on its own: a publish made at once is delivered exactly once and resolves', async () => {
    const { EventBus, SharedMemoryStore, loader } = await freshModules();
    // Not loaded yet: the loader answers with a promise (a dynamic import).
    expect(loader.loadSharedDelivery()).toBeInstanceOf(Promise);
    const store = new SharedMemoryStore();
    const bus = new EventBus({ store });
    const seen: string[] = [];
    bus.on('task.*', (event) => {
      seen.push(event.id);
    });
    const result = await bus.publish({ type: 'task.created', data: {} });
    expect(result.status).toBe('delivered');
    expect(result.deliveredTo).toBe(1);
    expect(seen).toEqual([result.id]);
    expect((await bus.health()).feed).toMatchObject({ positioned: true });
    // Loaded now: the next bus gets it at once.
    expect(loader.loadSharedDelivery()).not.toBeInstanceOf(Promise);
    await bus.close();
    await store.close();
  });

  it('reports the feed as not positioned while the code loads, and ready() waits for both', async () => {
    const { EventBus, SharedMemoryStore } = await freshModules();
    const store = new SharedMemoryStore();
    const bus = new EventBus({ store });
    const health = await bus.health();
    // health() itself takes turns, so the load may be done; either way the report is consistent.
    expect(health.ok).toBe(health.feed?.positioned === true);
    expect(health.feed).not.toBeNull();
    await bus.ready();
    expect((await bus.health()).feed).toMatchObject({ positioned: true });
    await bus.close();
    await store.close();
  });

  it('starts no feed when closed while the code loads, and refuses publishes after', async () => {
    const { EventBus, ClosedError, SharedMemoryStore } = await freshModules();
    const store = new SharedMemoryStore();
    const tail = vi.spyOn(store, 'tail');
    const bus = new EventBus({ store });
    const publishing = bus.publish({ type: 'task.created', data: {} });
    await bus.close();
    expect(tail).not.toHaveBeenCalled();
    await expect(publishing).rejects.toBeInstanceOf(ClosedError);
    await expect(bus.publish({ type: 'task.created', data: {} })).rejects.toBeInstanceOf(ClosedError);
    await expect(bus.ready()).rejects.toBeInstanceOf(ClosedError);
    await store.close();
  });

  it('a replay made at once waits for the feed, then hands over to live with no gap', async () => {
    const { EventBus, SharedMemoryStore } = await freshModules();
    const store = new SharedMemoryStore();
    await store.append([{ id: 'old', type: 'task.created', stream: 'default', time: 1, data: {} }]);
    const bus = new EventBus({ store });
    const iterator = bus.subscribe('task.*', { from: 'start' })[Symbol.asyncIterator]();
    const published = await bus.publish({ type: 'task.created', data: {} });
    const nextId = async () => ((await iterator.next()).value as { id: string }).id;
    const ids = [await nextId(), await nextId()];
    expect(ids).toEqual(['old', published.id]);
    await iterator.return?.();
    await bus.close();
    await store.close();
  });
});
