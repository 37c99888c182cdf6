// Chromium, loaded as a module from a server whose first request for each lazy chunk fails
// (see chunk-load.test.ts): what a bus does when the code it loads on first use cannot load.
import { EventBus, MemoryEventStore, ModuleLoadError } from '../../../src/index.js';
import { SharedMemoryStore } from '../../support/shared-memory-store.js';

/** A settled call as the report shows it: 'resolved', or the error's code or text. */
const outcome = (call: Promise<unknown>): Promise<string> =>
  call.then(
    () => 'resolved',
    (error: unknown) => (error instanceof ModuleLoadError ? error.code : String(error)),
  );

async function until(done: () => boolean): Promise<void> {
  for (let waited = 0; !done(); waited += 10) {
    if (waited > 5000) throw new Error('gave up waiting');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function consumerGroups(): Promise<Record<string, unknown>> {
  const bus = new EventBus({ store: new MemoryEventStore() });
  const handled: string[] = [];
  const handler = async (event: { id: string }): Promise<void> => {
    handled.push(event.id);
  };
  const first = await outcome(bus.consume('task.*', handler, { group: 'g' }));
  const consumer = await bus.consume('task.*', handler, { group: 'g' });
  const { id } = await bus.publish({ type: 'task.created', data: {} });
  await until(() => handled.length > 0);
  await consumer.close();
  await bus.close();
  return { first, handledOnce: handled.length === 1 && handled[0] === id };
}

async function sharedDelivery(): Promise<Record<string, unknown>> {
  const store = new SharedMemoryStore();
  const reported: string[] = [];
  const bus = new EventBus({
    store,
    onError: (error) => reported.push(error instanceof ModuleLoadError ? error.code : String(error)),
  });
  const seen: string[] = [];
  bus.on('task.*', (event) => {
    seen.push(event.id);
  });
  const first = await outcome(bus.publish({ type: 'task.created', data: {} }));
  const second = await bus.publish({ type: 'task.created', data: {} });
  const health = await bus.health();
  await bus.close();
  await store.close();
  return {
    first,
    reported,
    second: second.status,
    deliveredOnce: seen.length === 1 && seen[0] === second.id,
    positioned: health.feed?.positioned,
  };
}

(globalThis as { chunkLoadReport?: unknown }).chunkLoadReport = (async () => ({
  groups: await consumerGroups(),
  shared: await sharedDelivery(),
}))();
