import { EventBus, MemoryEventStore, type StoredEvent } from 'busline';
import { deepEqual, equal, failsWith, ok, test } from './harness.js';

const event = (id: string, data: unknown, type = 'task.created') => ({
  id,
  type,
  stream: 'default',
  time: 1_700_000_000_000,
  data,
});

/** Reads `count` events of `subscription`, in order. */
async function take(subscription: AsyncIterable<StoredEvent>, count: number): Promise<unknown[]> {
  const seen: unknown[] = [];
  for await (const e of subscription) {
    seen.push(e.data);
    if (seen.length === count) break;
  }
  return seen;
}

/** Registers this module's tests (suite.ts says why a call, not an import for effect). */
export function storeReplayTests(): void {
  test('store: append, read forward and backward with paging, idempotent by id', async () => {
    const store = new MemoryEventStore();
    const appended = await store.append([event('a', 1), event('b', 2), event('c', 3, 'user.created')]);
    deepEqual(
      appended.map((r) => [r.id, r.duplicate]),
      [
        ['a', false],
        ['b', false],
        ['c', false],
      ],
    );
    ok(
      appended[0]!.cursor < appended[1]!.cursor && appended[1]!.cursor < appended[2]!.cursor,
      'cursors sort in append order',
    );
    const again = await store.append([event('b', 'ignored')]);
    deepEqual(again, [{ id: 'b', cursor: appended[1]!.cursor, duplicate: true }], 'same id again');

    const first = await store.read({ limit: 2 });
    deepEqual(
      first.events.map((e) => e.data),
      [1, 2],
    );
    const rest = await store.read({ after: first.next! });
    deepEqual(
      rest.events.map((e) => e.data),
      [3],
    );
    const backward = await store.read({ direction: 'backward', types: ['task.*'] });
    deepEqual(
      backward.events.map((e) => e.id),
      ['b', 'a'],
    );
    equal((await store.stats()).events, 3);
    await store.close();
  });

  test('replay: from start catches up on history, then goes live with no gap and no duplicate', async () => {
    const bus = new EventBus();
    for (let n = 0; n < 50; n++) await bus.publish({ type: 'task.updated', data: n });
    const reading = take(bus.subscribe('task.*', { from: 'start', bufferSize: 8 }), 100);
    // Published while the replay runs: the handover must place each exactly once. A macrotask
    // turn every 5 lets the reader interleave with the publisher at many different points.
    for (let n = 50; n < 100; n++) {
      await bus.publish({ type: 'task.updated', data: n });
      await bus.publish({ type: 'noise.x', data: n });
      if (n % 5 === 0) await new Promise((resolve) => setTimeout(resolve, 0));
    }
    deepEqual(
      await reading,
      Array.from({ length: 100 }, (_, n) => n),
    );
    await bus.close();
  });

  test('replay: from a cursor resumes strictly after it', async () => {
    const bus = new EventBus();
    const cursors: string[] = [];
    for (let n = 0; n < 10; n++) cursors.push((await bus.publish({ type: 'task.updated', data: n })).cursor!);
    const resumed = take(bus.subscribe('task.*', { from: { after: cursors[6]! } }), 4);
    await bus.publish({ type: 'task.updated', data: 10 });
    deepEqual(await resumed, [7, 8, 9, 10]);
    await bus.close();
  });

  test('replay: history lost to the store bound ends the loop with HISTORY_TRUNCATED', async () => {
    // onError: the bus would otherwise log the ended subscription to the console.
    const bus = new EventBus({ store: new MemoryEventStore({ maxEventsPerStream: 5 }), onError: () => {} });
    const first = await bus.publish({ type: 'task.updated', data: 0 });
    for (let n = 1; n < 10; n++) await bus.publish({ type: 'task.updated', data: n });
    await failsWith(
      () => take(bus.subscribe('task.*', { from: { after: first.cursor! } }), 10),
      'HISTORY_TRUNCATED',
    );
    await bus.close();
  });
}
