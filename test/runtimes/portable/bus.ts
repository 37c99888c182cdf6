import { EventBus, type StoredEvent } from 'busline';
import { deepEqual, equal, failsWith, ok, test } from './harness.js';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/**
 * Built at module load: in workerd that is the Worker's global scope, where making random
 * values (ids, store epochs) throws, so a bus must defer them to its first use.
 */
const moduleScopeBus = new EventBus();

/** Registers this module's tests (suite.ts says why a call, not an import for effect). */
export function busTests(): void {
  test('bus: a bus built at module load publishes and delivers', async () => {
    const seen: unknown[] = [];
    moduleScopeBus.on('boot.*', (event) => void seen.push(event.data));
    const result = await moduleScopeBus.publish({ type: 'boot.done', data: 1 });
    equal(result.status, 'delivered');
    deepEqual(seen, [1]);
  });

  test('bus: task.* receives task.created but not task.created.x or user.created', async () => {
    const bus = new EventBus();
    const types: string[] = [];
    bus.on('task.*', (event) => void types.push(event.type));
    for (const type of ['task.created', 'task.created.x', 'user.created', 'task.done'])
      await bus.publish({ type, data: null });
    deepEqual(types, ['task.created', 'task.done']);
    await bus.close();
  });

  test('bus: **.failed receives failures at any depth', async () => {
    const bus = new EventBus();
    const types: string[] = [];
    bus.on('**.failed', (event) => void types.push(event.type));
    for (const type of ['job.failed', 'job.step.failed', 'job.done', 'job.failed.retry'])
      await bus.publish({ type, data: null });
    deepEqual(types, ['job.failed', 'job.step.failed']);
    await bus.close();
  });

  test('bus: once resolves with the next matching event only', async () => {
    const bus = new EventBus();
    const next = bus.once('order.paid');
    await bus.publish({ type: 'order.created', data: 'a' });
    await bus.publish({ type: 'order.paid', data: 'b' });
    await bus.publish({ type: 'order.paid', data: 'c' });
    equal((await next).data, 'b');
    await bus.close();
  });

  test('bus: ids are UUIDv7 and strictly increasing (Web Crypto randomness)', async () => {
    const bus = new EventBus({ store: null, dedup: false });
    const ids: string[] = [];
    for (let i = 0; i < 5000; i++) ids.push((await bus.publish({ type: 'tick', data: i })).id);
    ok(
      ids.every((id) => UUID_V7.test(id)),
      `not UUIDv7: ${ids.find((id) => !UUID_V7.test(id))}`,
    );
    ok(
      ids.every((id, i) => i === 0 || ids[i - 1]! < id),
      'ids out of order',
    );
    equal(new Set(ids.map((id) => id.slice(19))).size, ids.length, 'distinct random tails');
    await bus.close();
  });

  test('bus: bad input fails with typed errors (INVALID_EVENT, INVALID_PATTERN)', async () => {
    const bus = new EventBus();
    await failsWith(() => bus.publish({ type: 'task..created', data: 1 }), 'INVALID_EVENT', 'empty segment');
    await failsWith(() => bus.publish({ type: '', data: 1 }), 'INVALID_EVENT', 'empty type');
    await failsWith(() => bus.on('task*', () => {}), 'INVALID_PATTERN', 'star inside a word');
    equal(bus.stats().published, 0, 'nothing published');
    await bus.close();
  });

  test('bus: a throwing handler goes to onError and the other handlers still run', async () => {
    const errors: string[] = [];
    const bus = new EventBus({ onError: (error) => void errors.push((error as Error).message) });
    const received: string[] = [];
    bus.on('task.*', () => {
      throw new Error('handler broke');
    });
    bus.on('task.*', (event: StoredEvent) => void received.push(event.type));
    const result = await bus.publish({ type: 'task.created', data: 1 });
    equal(result.status, 'delivered');
    deepEqual(received, ['task.created']);
    deepEqual(errors, ['handler broke']);
    equal(bus.stats().handlerErrors, 1);
    await bus.close();
  });
}
