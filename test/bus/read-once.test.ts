import { describe, expect, it } from 'vitest';
import { checkAppendInput, EventBus, MemoryEventStore, type StoredEvent } from '../../src/index.js';

const FIELDS = ['id', 'type', 'stream', 'time', 'data', 'meta'] as const;

/**
 * An input whose every field is a getter: the first read answers `first[field]`, every later
 * read `later[field]` (a value that would have failed validation). Counts reads per field.
 */
function shifty(first: Record<string, unknown>, later: Record<string, unknown>) {
  const reads: Record<string, number> = {};
  const input = {};
  for (const field of FIELDS) {
    reads[field] = 0;
    Object.defineProperty(input, field, {
      enumerable: true,
      get: () => {
        const before = reads[field]!;
        reads[field] = before + 1;
        return before === 0 ? first[field] : later[field];
      },
    });
  }
  return { input: input as never, reads };
}

const VALID = {
  id: 'evt-1',
  type: 'task.created',
  stream: 'ops',
  time: 5,
  data: { n: 1 },
  meta: { role: 'a' },
};
const INVALID = {
  id: 'x\u0000',
  type: 'evil..**',
  stream: '',
  time: Number.NaN,
  data: 1n,
  meta: { deep: {} },
};

/** A bus on a memory store of its own (the default kind), and what that store holds. */
function busWithStore() {
  const store = new MemoryEventStore();
  const bus = new EventBus({ store });
  const stored = async (): Promise<StoredEvent[]> => (await store.read({})).events;
  return { bus, stored };
}

describe('the caller’s envelope is read once', () => {
  it('publish reads each field once and stores the values it validated, not later ones', async () => {
    const { bus, stored } = busWithStore();
    const seen: StoredEvent[] = [];
    bus.on('**', (event) => {
      seen.push(event);
    });
    const { input, reads } = shifty(VALID, INVALID);
    const result = await bus.publish(input);
    expect(result.status).toBe('delivered');
    expect(reads).toEqual({ id: 1, type: 1, stream: 1, time: 1, data: 1, meta: 1 });
    for (const event of [seen[0]!, (await stored())[0]!]) {
      expect(event).toMatchObject({
        id: 'evt-1',
        type: 'task.created',
        stream: 'ops',
        time: 5,
        data: { n: 1 },
      });
      expect(event.meta).toEqual({ role: 'a' });
    }
    await bus.close();
  });

  it('publish rejects what the first read answered and never reads again', async () => {
    const { bus, stored } = busWithStore();
    const { input, reads } = shifty(INVALID, VALID);
    await expect(bus.publish(input)).rejects.toThrow();
    expect(Math.max(...Object.values(reads))).toBeLessThanOrEqual(1);
    expect(await stored()).toEqual([]);
    await bus.close();
  });

  it('publishBatch reads each field of each event once, ids included (dedup decides on them)', async () => {
    const { bus, stored } = busWithStore();
    const a = shifty(VALID, INVALID);
    const b = shifty({ ...VALID, id: 'evt-2' }, { ...INVALID, id: undefined });
    const results = await bus.publishBatch([a.input, b.input]);
    expect(results.map((r) => [r.id, r.status])).toEqual([
      ['evt-1', 'delivered'],
      ['evt-2', 'delivered'],
    ]);
    for (const { reads } of [a, b])
      expect(reads).toEqual({ id: 1, type: 1, stream: 1, time: 1, data: 1, meta: 1 });
    expect((await stored()).map((e) => [e.id, e.type])).toEqual([
      ['evt-1', 'task.created'],
      ['evt-2', 'task.created'],
    ]);
    await bus.close();
  });

  it('a meta object changed after publish does not change the event (its values were copied)', async () => {
    const { bus, stored } = busWithStore();
    const meta: Record<string, unknown> = { role: 'a' };
    await bus.publish({ type: 'a', data: 1, meta: meta as never });
    meta.role = { nested: true };
    const [event] = await stored();
    expect(event!.meta).toEqual({ role: 'a' });
    await bus.close();
  });

  it('store.append writes what it validated; checkAppendInput returns plain copies', async () => {
    const store = new MemoryEventStore();
    const { input, reads } = shifty(VALID, INVALID);
    const [appended] = await store.append([input]);
    expect(appended!.duplicate).toBe(false);
    expect(reads).toEqual({ id: 1, type: 1, stream: 1, time: 1, data: 1, meta: 1 });
    const { events } = await store.read({});
    expect(events[0]).toMatchObject({ id: 'evt-1', type: 'task.created', stream: 'ops', time: 5 });

    const original = { ...VALID };
    const [copy] = checkAppendInput([original]);
    expect(copy).toEqual(original);
    expect(copy).not.toBe(original);
    expect(() => checkAppendInput([shifty(INVALID, VALID).input])).toThrow(/^events\[0\]: /);
    await store.close();
  });

  it('on, once and subscribe read each option once and use what they validated', async () => {
    const bus = new EventBus({ store: null });
    const reads: Record<string, number> = {};
    const options = (first: Record<string, unknown>, later: Record<string, unknown>) => {
      const object = {};
      for (const key of Object.keys(first)) {
        reads[key] = 0;
        Object.defineProperty(object, key, {
          enumerable: true,
          get: () => (reads[key]!++ === 0 ? first[key] : later[key]),
        });
      }
      return object as never;
    };
    const seen: string[] = [];
    bus.on('a', (event) => void seen.push(`on ${event.stream}`), options({ stream: 'x' }, { stream: 'y' }));
    const once = bus.once('a', options({ stream: 'x', timeoutMs: 1000 }, { stream: 'y', timeoutMs: 1 }));
    const iterator = bus.subscribe(
      'a',
      options({ stream: 'x', bufferSize: 4 }, { stream: 'y', bufferSize: 1e12 }),
    );
    for (const key of Object.keys(reads)) expect(reads[key], key).toBe(1);
    await bus.publish({ type: 'a', stream: 'y', data: 1 });
    await bus.publish({ type: 'a', stream: 'x', data: 2 });
    expect(seen).toEqual(['on x']);
    expect((await once).data).toBe(2);
    expect(iterator.stats().bufferSize).toBe(4);
    expect((await iterator.next()).value).toMatchObject({ stream: 'x', data: 2 });
    await bus.close();
  });
});
