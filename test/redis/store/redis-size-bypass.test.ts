// Security review #10: maxEventBytes was checked only at publish; the Redis store serialized the
// live object again, so a toJSON that lies or a getter put a 5 MB entry under a 1 KiB limit.
import { createClient } from 'redis';
import { afterAll, describe, expect, it } from 'vitest';
import { EventBus, EventTooLargeError } from '../../../src/index.js';
import { RedisEventStore } from '../../../src/redis/index.js';

const client = await createClient({ url: 'redis://127.0.0.1:6379' }).connect();
const prefix = `size-bypass-${process.pid}-${Date.now()}`;

afterAll(async () => {
  const keys: string[] = [];
  for await (const batch of client.scanIterator({ MATCH: `{${prefix}*` })) keys.push(...[batch].flat());
  if (keys.length > 0) await client.del(keys);
  await client.quit();
});

describe('RedisEventStore measures what it writes', () => {
  it('refuses an event that grew past maxEventBytes after the bus measured it, writing nothing', async () => {
    const store = new RedisEventStore({ client, prefix, maxEventBytes: 1024 });
    const bus = new EventBus({ store, maxEventBytes: 1024, onError: () => {} });
    await bus.ready();
    let calls = 0;
    const liar = { toJSON: () => (++calls === 1 ? 'small' : 'A'.repeat(5_000_000)) };
    await expect(bus.publish({ type: 'x', data: liar })).rejects.toBeInstanceOf(EventTooLargeError);
    let reads = 0;
    const getter = {
      get v() {
        return ++reads === 1 ? 'small' : 'A'.repeat(5_000_000);
      },
    };
    await expect(bus.publish({ type: 'x', data: getter })).rejects.toBeInstanceOf(EventTooLargeError);
    expect((await store.read({})).events).toHaveLength(0);
    const ok = await bus.publish({ type: 'x', data: 'é'.repeat(300) });
    expect(ok.status).toBe('delivered');
    await bus.close();
    await store.close();
  });

  it('defaults to the bus default (64 KiB) and names the index in a batch', async () => {
    const store = new RedisEventStore({ client, prefix: `${prefix}-b` });
    const events = [
      { id: 'a', type: 'x', stream: 's', time: 1, data: 'ok' },
      { id: 'b', type: 'x', stream: 's', time: 1, data: 'B'.repeat(70_000) },
    ];
    const error = await store.append(events).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EventTooLargeError);
    expect((error as EventTooLargeError).index).toBe(1);
    expect((await store.read({})).events).toHaveLength(0);
    await store.close();
  });
});
