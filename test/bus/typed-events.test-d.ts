import { describe, expectTypeOf, it } from 'vitest';
import {
  type BusHealth,
  type BusStats,
  EventBus,
  type EventMap,
  type HistoryTruncated,
  type StoredEvent,
  type Subscription,
} from '../../src/index.js';

type Events = {
  'task.created': { id: string; title: string };
  'task.done': { id: string };
  'task.comment.added': { text: string };
  'user.signed_up': { email: string };
};

const bus = new EventBus<Events>({ store: null });

describe('typed publish', () => {
  it('accepts a known type with its data', () => {
    expectTypeOf(
      bus.publish({ type: 'task.created', data: { id: '1', title: 't' } }),
    ).resolves.toHaveProperty('id');
    bus.publishBatch([{ type: 'task.done', data: { id: '1' } }]);
  });

  it('rejects an unknown type, wrong data and missing data', () => {
    // @ts-expect-error unknown event type
    bus.publish({ type: 'task.deleted', data: { id: '1' } });
    // @ts-expect-error data of the wrong shape
    bus.publish({ type: 'task.created', data: { id: 1 } });
    // @ts-expect-error data is required
    bus.publish({ type: 'task.done' });
  });
});

describe('typed handlers', () => {
  it('gives an exact-type handler that type and its data', () => {
    bus.on('task.created', (event) => {
      expectTypeOf(event).toEqualTypeOf<StoredEvent<'task.created', { id: string; title: string }>>();
    });
  });

  it('gives a task.* handler the union of the one-segment task events only', () => {
    bus.on('task.*', (event) => {
      expectTypeOf(event.type).toEqualTypeOf<'task.created' | 'task.done'>();
      if (event.type === 'task.created') expectTypeOf(event.data.title).toBeString();
    });
  });

  it('gives task.** handlers every task event and ** handlers everything', () => {
    bus.on('task.**', (event) => {
      expectTypeOf(event.type).toEqualTypeOf<'task.created' | 'task.done' | 'task.comment.added'>();
    });
    bus.on('**', (event) => {
      expectTypeOf(event.type).toEqualTypeOf<keyof Events>();
    });
    bus.on('**.added', (event) => {
      expectTypeOf(event.data).toEqualTypeOf<{ text: string }>();
    });
  });

  it('types an array of patterns as the union of their matches', () => {
    bus.on(['task.done', 'user.*'], (event) => {
      expectTypeOf(event.type).toEqualTypeOf<'task.done' | 'user.signed_up'>();
    });
  });

  it('types once() and subscribe() the same way', async () => {
    expectTypeOf(bus.once('user.*')).resolves.toEqualTypeOf<
      StoredEvent<'user.signed_up', { email: string }>
    >();
    for await (const event of bus.subscribe('task.done')) {
      expectTypeOf(event.data).toEqualTypeOf<{ id: string }>();
    }
  });

  it('types filter parameters like handler parameters', () => {
    bus.on('task.created', () => {}, { filter: (event) => event.data.title.length > 0 });
  });

  it('rejects a handler that expects the wrong data', () => {
    // @ts-expect-error task.done carries no title
    bus.on('task.done', (event: StoredEvent<'task.done', { title: string }>) => event);
  });
});

describe('untyped bus', () => {
  it('accepts any type and gives handlers unknown data', () => {
    const loose = new EventBus({ store: null });
    loose.publish({ type: 'anything.at.all', data: 42 });
    loose.on('x.*', (event) => {
      expectTypeOf(event.type).toBeString();
      expectTypeOf(event.data).toBeUnknown();
    });
  });
});

describe('subscribe element type (onTruncated)', () => {
  const stored = new EventBus<Events>();
  it('is the event type alone by default, with or without a replay', () => {
    expectTypeOf(stored.subscribe('task.done', { from: 'start' })).toEqualTypeOf<
      Subscription<StoredEvent<'task.done', { id: string }>>
    >();
    expectTypeOf(stored.subscribe('task.done', { from: { after: 'c' }, onTruncated: 'throw' })).toEqualTypeOf<
      Subscription<StoredEvent<'task.done', { id: string }>>
    >();
  });

  it("adds HistoryTruncated with onTruncated: 'signal', or when the choice is made at run time", () => {
    expectTypeOf(stored.subscribe('task.done', { from: 'start', onTruncated: 'signal' })).toEqualTypeOf<
      Subscription<StoredEvent<'task.done', { id: string }> | HistoryTruncated>
    >();
    const choice = Math.random() > 0.5 ? ('signal' as const) : ('throw' as const);
    expectTypeOf(stored.subscribe('task.done', { onTruncated: choice })).toEqualTypeOf<
      Subscription<StoredEvent<'task.done', { id: string }> | HistoryTruncated>
    >();
  });
});

describe('a typed bus handed to code that takes any bus', () => {
  const typed = new EventBus<Events>();
  it('is not an open EventBus (which could publish any type into it), but fits a generic helper', () => {
    const open = (bus: EventBus) => bus;
    // @ts-expect-error the open bus's publish takes any type; the typed one refuses them
    open(typed);
    const generic = <E extends EventMap>(bus: EventBus<E>) => bus.stats();
    expectTypeOf(generic(typed)).toEqualTypeOf<BusStats>();
    // biome-ignore lint/suspicious/noExplicitAny: the documented way to take any bus and only read it
    const readsOnly = (bus: EventBus<any>) => bus.health();
    expectTypeOf(readsOnly(typed)).resolves.toEqualTypeOf<BusHealth>();
  });
});
