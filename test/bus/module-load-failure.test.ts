import { afterEach, describe, expect, it, vi } from 'vitest';

/**
 * The code a bus loads on first use (the consumer groups, the delivery through a shared store)
 * can fail to load: in a browser with a split bundle, the chunk's request fails (the network, a
 * deploy that replaced it). The module is made to fail here by a mock that throws when it is
 * evaluated, and to load again by removing the mock; test/runtimes/chunk-load.test.ts does the
 * same with real chunk requests in Chromium.
 */
const SHARED_DELIVERY = '../../src/bus/shared-delivery.js';
const CONSUMER_GROUPS = '../../src/groups/consumer-groups.js';

async function freshModules(failing: string) {
  vi.resetModules();
  vi.doMock(failing, () => {
    throw new Error('chunk request failed');
  });
  const busline = await import('../../src/index.js');
  const { SharedMemoryStore } = await import('../support/shared-memory-store.js');
  return { ...busline, SharedMemoryStore };
}

afterEach(() => {
  vi.doUnmock(SHARED_DELIVERY);
  vi.doUnmock(CONSUMER_GROUPS);
  vi.resetModules();
});

describe('the shared-store delivery code fails to load', () => {
  it('rejects the waiting publish with ModuleLoadError, reports it, and loads again at the next publish', async () => {
    const { EventBus, ModuleLoadError, SharedMemoryStore } = await freshModules(SHARED_DELIVERY);
    const store = new SharedMemoryStore();
    const errors: { error: unknown; source: string }[] = [];
    const bus = new EventBus({
      store,
      onError: (error, context) => errors.push({ error, source: context.source }),
    });
    const seen: string[] = [];
    bus.on('task.*', (event) => {
      seen.push(event.id);
    });
    const failed = await bus.publish({ type: 'task.created', data: {} }).catch((error: unknown) => error);
    expect(failed).toBeInstanceOf(ModuleLoadError);
    expect((failed as InstanceType<typeof ModuleLoadError>).code).toBe('MODULE_LOAD_FAILED');
    // The loader's own error (here vitest's, around the mock's) is the cause.
    expect((failed as Error).cause).toBeInstanceOf(Error);
    expect(errors).toEqual([{ error: failed, source: 'feed' }]);
    // Nothing was appended: the publish waited for the feed before it appended.
    expect((await store.stats()).events).toBe(0);
    const health = await bus.health();
    expect(health.ok).toBe(false);
    expect(health.feed).toEqual({ positioned: false });
    expect(health.store?.lastError?.name).toBe('ModuleLoadError');

    vi.doUnmock(SHARED_DELIVERY);
    const result = await bus.publish({ type: 'task.created', data: {} });
    expect(result).toMatchObject({ status: 'delivered', deliveredTo: 1 });
    expect(seen).toEqual([result.id]);
    expect((await bus.health()).ok).toBe(true);
    await bus.close();
    await store.close();
  });

  it('loads again on its own, so that events of other processes reach a bus that publishes nothing', async () => {
    const { EventBus, SharedMemoryStore } = await freshModules(SHARED_DELIVERY);
    const store = new SharedMemoryStore();
    const errors: unknown[] = [];
    const listener = new EventBus({ store, onError: (error) => errors.push(error) });
    const seen: string[] = [];
    listener.on('task.*', (event) => {
      seen.push(event.id);
    });
    await vi.waitFor(() => expect(errors).toHaveLength(1));
    vi.doUnmock(SHARED_DELIVERY);
    // The retry (after 1 s) starts the feed; health() only looks, it loads nothing.
    await vi.waitFor(async () => expect((await listener.health()).feed?.positioned).toBe(true), {
      timeout: 5000,
    });
    const publisher = new EventBus({ store });
    const result = await publisher.publish({ type: 'task.created', data: {} });
    await vi.waitFor(() => expect(seen).toEqual([result.id]));
    await publisher.close();
    await listener.close();
    await store.close();
  });

  it('closes cleanly after a failed load, and a close during the retry wait starts nothing', async () => {
    const { EventBus, ClosedError, ModuleLoadError, SharedMemoryStore } = await freshModules(SHARED_DELIVERY);
    const store = new SharedMemoryStore();
    const tail = vi.spyOn(store, 'tail');
    const bus = new EventBus({ store, onError: () => {} });
    await expect(bus.ready()).rejects.toBeInstanceOf(ModuleLoadError);
    vi.doUnmock(SHARED_DELIVERY);
    await bus.close();
    // Past the first retry's time: the retry was cancelled by close.
    await new Promise((resolve) => setTimeout(resolve, 1200));
    expect(tail).not.toHaveBeenCalled();
    await expect(bus.ready()).rejects.toBeInstanceOf(ClosedError);
    await store.close();
  });
});

describe('the consumer-group code fails to load', () => {
  it('rejects consume() and the dead-letter calls with ModuleLoadError, then loads again on the next call', async () => {
    const { EventBus, ModuleLoadError, MemoryEventStore } = await freshModules(CONSUMER_GROUPS);
    const bus = new EventBus({ store: new MemoryEventStore() });
    const handled: string[] = [];
    const handler = async (event: { id: string }) => {
      handled.push(event.id);
    };
    await expect(bus.consume('task.*', handler, { group: 'g' })).rejects.toBeInstanceOf(ModuleLoadError);
    await expect(bus.deadLetters('g').list()).rejects.toBeInstanceOf(ModuleLoadError);

    vi.doUnmock(CONSUMER_GROUPS);
    const consumer = await bus.consume('task.*', handler, { group: 'g' });
    const { id } = await bus.publish({ type: 'task.created', data: {} });
    await vi.waitFor(() => expect(handled).toEqual([id]));
    expect(await bus.deadLetters('g').list()).toEqual([]);
    await consumer.close();
    await bus.close();
  });

  it('lets the bus close while a failed load was the only one', async () => {
    const { EventBus, MemoryEventStore, ModuleLoadError } = await freshModules(CONSUMER_GROUPS);
    const bus = new EventBus({ store: new MemoryEventStore() });
    const consuming = bus.consume('task.*', async () => {}, { group: 'g' });
    const closing = bus.close();
    await expect(consuming).rejects.toBeInstanceOf(ModuleLoadError);
    await expect(closing).resolves.toBeUndefined();
  });
});
