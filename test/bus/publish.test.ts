import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  ClosedError,
  EventBus,
  type EventMap,
  EventTooLargeError,
  InvalidEventError,
  SchemaMismatchError,
  type StoredEvent,
} from '../../src/index.js';

function collect(bus: EventBus, pattern = '**'): StoredEvent[] {
  const seen: StoredEvent[] = [];
  bus.on(pattern, (event) => {
    seen.push(event);
  });
  return seen;
}

describe('publish', () => {
  // publish is not an async function (a plain one is cheaper): it must still never throw.
  it('reports every failure as a rejected promise, never a synchronous throw', async () => {
    const open = new EventBus({ store: null, maxEventBytes: 64 });
    const closed = new EventBus({ store: null });
    await closed.close();
    const calls: [string, () => Promise<unknown>][] = [
      ['invalid type', () => open.publish({ type: '', data: 1 })],
      ['not an object', () => open.publish(null as never)],
      ['too large', () => open.publish({ type: 'a', data: 'x'.repeat(100) })],
      ['options not an object', () => open.publish({ type: 'a', data: 1 }, 5 as never)],
      ['aborted signal', () => open.publish({ type: 'a', data: 1 }, { signal: AbortSignal.abort() })],
      ['closed bus', () => closed.publish({ type: 'a', data: 1 })],
    ];
    for (const [name, call] of calls) {
      let returned: Promise<unknown> | undefined;
      expect(() => {
        returned = call();
      }, name).not.toThrow();
      expect(returned, name).toBeInstanceOf(Promise);
      await expect(returned, name).rejects.toBeInstanceOf(Error);
    }
    await open.close();
  });

  it('stamps id, stream and time from the bus clock when they are omitted', async () => {
    const bus = new EventBus({ store: null, clock: () => 1_700_000_000_000 });
    const seen = collect(bus);
    const result = await bus.publish({ type: 'task.created', data: { title: 'a' } });
    expect(seen).toHaveLength(1);
    const event = seen[0]!;
    expect(event).toMatchObject({ type: 'task.created', stream: 'default', time: 1_700_000_000_000 });
    expect(event.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(result).toEqual({ id: event.id, status: 'delivered', deliveredTo: 1 });
  });

  it('keeps the id, stream, time and meta it is given', async () => {
    const bus = new EventBus({ store: null });
    const seen = collect(bus);
    const input = { id: 'evt-1', type: 'a', stream: 'op-7', time: 5, data: null, meta: { role: 'admin' } };
    await bus.publish(input);
    expect(seen[0]).toMatchObject(input);
  });

  it('reports how many subscribers an event reached, zero included', async () => {
    const bus = new EventBus({ store: null });
    expect((await bus.publish({ type: 'nobody.listens', data: 1 })).deliveredTo).toBe(0);
    bus.on('a.*', () => {});
    bus.on('a.b', () => {});
    bus.on('b.*', () => {});
    expect((await bus.publish({ type: 'a.b', data: 1 })).deliveredTo).toBe(2);
  });

  it.each([
    ['a type with an empty segment', { type: 'a..b', data: 1 }],
    ['a type with a wildcard', { type: 'task.*', data: 1 }],
    ['an empty type', { type: '', data: 1 }],
    ['a type with a newline', { type: 'a\nb', data: 1 }],
    ['a type longer than 256 characters', { type: 'x'.repeat(257), data: 1 }],
    ['a type with 33 segments', { type: Array(33).fill('a').join('.'), data: 1 }],
    ['a numeric type', { type: 42, data: 1 }],
    ['a stream with a control character', { type: 'a', stream: 'op\u0000', data: 1 }],
    ['an empty stream', { type: 'a', stream: '', data: 1 }],
    [
      'a stream with a lone surrogate (no UTF-8 store could keep it)',
      { type: 'a', stream: 'x\uD800', data: 1 },
    ],
    ['a type with a lone low surrogate', { type: 'a.\uDC00', data: 1 }],
    ['a NaN time', { type: 'a', time: Number.NaN, data: 1 }],
    ['a nested meta value', { type: 'a', meta: { user: { id: 1 } }, data: 1 }],
    ['an empty id', { id: '', type: 'a', data: 1 }],
    ['a BigInt in data', { type: 'a', data: { n: 10n } }],
    ['null instead of an event', null],
  ])('rejects %s with InvalidEventError and delivers nothing', async (_, input) => {
    const bus = new EventBus({ store: null });
    const seen = collect(bus);
    const error = await bus.publish(input as never).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidEventError);
    expect((error as InvalidEventError).code).toBe('INVALID_EVENT');
    expect(seen).toEqual([]);
    expect(bus.stats().published).toBe(0);
  });

  it('rejects a circular data object as not serializable instead of overflowing the stack', async () => {
    const bus = new EventBus({ store: null });
    const data: Record<string, unknown> = {};
    data.self = data;
    await expect(bus.publish({ type: 'a', data })).rejects.toThrow(/JSON-serializable/);
  });

  it('rejects an event over maxEventBytes with EventTooLargeError naming the limit', async () => {
    const bus = new EventBus({ store: null, maxEventBytes: 1024 });
    const seen = collect(bus);
    await bus.publish({ type: 'a', data: 'x'.repeat(900) });
    const error = await bus.publish({ type: 'a', data: 'x'.repeat(1024) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EventTooLargeError);
    expect((error as EventTooLargeError).message).toContain('1024');
    expect(seen).toHaveLength(1);
  });

  it('measures size in UTF-8 bytes, so 400 three-byte characters exceed a 1,000-byte limit', async () => {
    const bus = new EventBus({ store: null, maxEventBytes: 1000 });
    await expect(bus.publish({ type: 'a', data: '€'.repeat(400) })).rejects.toBeInstanceOf(
      EventTooLargeError,
    );
    await expect(bus.publish({ type: 'a', data: 'e'.repeat(400) })).resolves.toMatchObject({
      status: 'delivered',
    });
  });

  it('delivers data with a __proto__ key without polluting any prototype', async () => {
    const bus = new EventBus({ store: null });
    const seen = collect(bus);
    const data = JSON.parse('{"__proto__": {"polluted": true}, "constructor": {"prototype": {"x": 1}}}');
    await bus.publish({
      type: '__proto__',
      stream: 'constructor',
      data,
      meta: JSON.parse('{"__proto__": "x"}'),
    });
    expect(seen[0]!.data).toBe(data);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
  });

  it('rejects with ClosedError after close()', async () => {
    const bus = new EventBus({ store: null });
    await bus.close();
    await expect(bus.publish({ type: 'a', data: 1 })).rejects.toBeInstanceOf(ClosedError);
    await expect(bus.publishBatch([{ type: 'a', data: 1 }])).rejects.toMatchObject({ code: 'CLOSED' });
  });
});

describe('publishBatch', () => {
  it('publishes every event in order and returns one result per event', async () => {
    const bus = new EventBus({ store: null });
    const seen = collect(bus);
    const results = await bus.publishBatch([
      { type: 'a', data: 1 },
      { type: 'b', data: 2 },
      { type: 'c', data: 3 },
    ]);
    expect(seen.map((e) => e.type)).toEqual(['a', 'b', 'c']);
    expect(results.map((r) => r.id)).toEqual(seen.map((e) => e.id));
  });

  it('stamps a batch with one clock reading (ids still in order); an async schema reads it on completion', async () => {
    let t = 1_700_000_000_000;
    let reads = 0;
    const clock = () => {
      reads++;
      return t++;
    };
    const later = {
      '~standard': { version: 1 as const, vendor: 'test', validate: async (value: unknown) => ({ value }) },
    };
    // An open map: the test publishes types the schemas do not name.
    const bus = new EventBus<EventMap>({
      store: null,
      dedup: false,
      clock,
      schemas: { 'task.checked': later },
    });
    const seen = collect(bus);
    await bus.publishBatch([1, 2, 3].map((n) => ({ type: 'task.created', data: n })));
    expect(reads).toBe(1);
    expect(new Set(seen.map((e) => e.time)).size).toBe(1);
    expect(seen.map((e) => e.id)).toEqual(seen.map((e) => e.id).sort());
    reads = 0;
    await bus.publishBatch([
      { type: 'task.checked', data: 1 },
      { type: 'task.created', data: 2 },
    ]);
    expect(reads).toBe(2); // the batch's, and the asynchronously validated event's own
  });

  it('publishes nothing when one event is invalid, and names its index', async () => {
    const bus = new EventBus({ store: null });
    const seen = collect(bus);
    const error = await bus
      .publishBatch([
        { type: 'a', data: 1 },
        { type: 'b..c', data: 2 },
      ])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidEventError);
    expect((error as InvalidEventError).index).toBe(1);
    expect((error as Error).message).toMatch(/^events\[1\]/);
    expect(seen).toEqual([]);
  });

  it('rejects something that is not an array', async () => {
    const bus = new EventBus({ store: null });
    await expect(bus.publishBatch({} as never)).rejects.toBeInstanceOf(InvalidEventError);
  });
});

describe('schemas', () => {
  const schemas = { 'task.created': z.object({ title: z.string(), tags: z.array(z.string()).default([]) }) };

  it('rejects data that does not match, naming the path, and publishes nothing', async () => {
    const bus = new EventBus<EventMap>({ store: null, schemas }); // open: wrong data on purpose
    const seen = collect(bus);
    const error = await bus.publish({ type: 'task.created', data: { title: 7 } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SchemaMismatchError);
    expect((error as SchemaMismatchError).issues[0]!.path).toBe('title');
    expect((error as Error).message).toContain('"title"');
    expect(seen).toEqual([]);
  });

  it('delivers the validated output (defaults applied) and leaves other types unchecked', async () => {
    const bus = new EventBus<EventMap>({ store: null, schemas }); // open: wrong data on purpose
    const seen = collect(bus);
    await bus.publish({ type: 'task.created', data: { title: 'x' } });
    await bus.publish({ type: 'task.deleted', data: 'anything' });
    expect(seen.map((e) => e.data)).toEqual([{ title: 'x', tags: [] }, 'anything']);
  });

  it('supports asynchronous validators and names the batch index of a mismatch', async () => {
    const asyncSchemas = {
      'user.created': z.object({ name: z.string() }).refine(async (v) => v.name !== 'root'),
    };
    const bus = new EventBus<EventMap>({ store: null, schemas: asyncSchemas });
    const seen = collect(bus);
    await bus.publish({ type: 'user.created', data: { name: 'ada' } });
    const error = await bus
      .publishBatch([
        { type: 'user.created', data: { name: 'bob' } },
        { type: 'user.created', data: { name: 'root' } },
      ])
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'SCHEMA_MISMATCH', index: 1 });
    expect(seen).toHaveLength(1);
  });
});
