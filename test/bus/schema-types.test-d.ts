// Issue #14 item 4: the Events map comes from the schemas, a schema cannot contradict an
// explicit map, and onError's context.event is typed. Checked by vitest's typecheck.
import { describe, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import {
  type ErrorContext,
  EventBus,
  type EventMap,
  type StandardSchemaV1,
  type StoredEvent,
} from '../../src/index.js';

const schemas = {
  'task.created': z.object({ id: z.string(), title: z.string() }),
  'task.done': z.object({ id: z.string(), at: z.number() }),
};

type Created = StoredEvent<'task.created', { id: string; title: string }>;
type Done = StoredEvent<'task.done', { id: string; at: number }>;

describe('Events inferred from schemas (no type argument)', () => {
  const bus = new EventBus({ schemas });

  it('types handlers with the schemas’ outputs', () => {
    bus.on('task.created', (event) => {
      expectTypeOf(event).toEqualTypeOf<Created>();
    });
    bus.on('task.*', (event) => {
      expectTypeOf(event).toEqualTypeOf<Created | Done>();
    });
  });

  it('types publish: known types only, with their data', () => {
    bus.publish({ type: 'task.done', data: { id: '1', at: 2 } });
    // @ts-expect-error a type no schema names
    bus.publish({ type: 'task.deleted', data: {} });
    // @ts-expect-error data that contradicts the schema
    bus.publish({ type: 'task.done', data: { id: 1, at: 2 } });
  });

  it('is the same bus type as one written with the map by hand', () => {
    expectTypeOf(bus).toEqualTypeOf<
      EventBus<{ 'task.created': { id: string; title: string }; 'task.done': { id: string; at: number } }>
    >();
  });

  it('infers from any Standard Schema, not only zod', () => {
    const custom: StandardSchemaV1<unknown, { n: number }> = {
      '~standard': { version: 1, vendor: 'custom', validate: (value) => ({ value: value as { n: number } }) },
    };
    const other = new EventBus({ schemas: { counted: custom } });
    other.on('counted', (event) => expectTypeOf(event.data).toEqualTypeOf<{ n: number }>());
  });

  it('keeps the open map when there are no schemas', () => {
    expectTypeOf(new EventBus()).toEqualTypeOf<EventBus<EventMap>>();
    expectTypeOf(new EventBus({ store: null, onError: () => {} })).toEqualTypeOf<EventBus<EventMap>>();
  });
});

describe('an explicit map and its schemas', () => {
  type Events = { 'task.created': { id: string } };

  it('accepts schemas whose output is the type’s data', () => {
    new EventBus<Events>({ schemas: { 'task.created': z.object({ id: z.string() }) } });
  });

  it('rejects, at compile time, a schema that contradicts the map', () => {
    // @ts-expect-error id is a string in the map, a number in the schema
    new EventBus<Events>({ schemas: { 'task.created': z.object({ id: z.number() }) } });
  });

  it('an open map (EventMap) takes any schema: for buses that publish types the schemas do not name', () => {
    const open = new EventBus<EventMap>({ schemas });
    open.publish({ type: 'anything', data: 1 });
  });
});

describe('onError context.event', () => {
  it('is the union of the bus’s events for a typed bus', () => {
    new EventBus<{ a: { x: number }; b: string }>({
      onError: (_error, context) => {
        expectTypeOf(context.event).toEqualTypeOf<
          StoredEvent<'a', { x: number }> | StoredEvent<'b', string> | undefined
        >();
      },
    });
  });

  it('is typed from inferred schemas too', () => {
    new EventBus({
      schemas,
      onError: (_error, context) => {
        expectTypeOf(context.event).toEqualTypeOf<Created | Done | undefined>();
      },
    });
  });

  it('is any stored event for the open map', () => {
    new EventBus({
      onError: (_error, context) => {
        expectTypeOf(context).toEqualTypeOf<ErrorContext>();
        expectTypeOf(context.event).toEqualTypeOf<StoredEvent<string, unknown> | undefined>();
      },
    });
  });
});
