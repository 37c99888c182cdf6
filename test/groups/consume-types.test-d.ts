import { describe, expectTypeOf, it } from 'vitest';
import {
  type Consumer,
  type ConsumerStats,
  type DeadLetter,
  EventBus,
  type StoredEvent,
} from '../../src/index.js';

type Events = {
  'task.created': { id: string; title: string };
  'task.done': { id: string };
  'user.signed_up': { email: string };
};

const bus = new EventBus<Events>();

describe('typed consume', () => {
  it('gives the handler the events its patterns match', () => {
    expectTypeOf(
      bus.consume(
        'task.*',
        (event) => {
          expectTypeOf(event.type).toEqualTypeOf<'task.created' | 'task.done'>();
        },
        { group: 'g' },
      ),
    ).resolves.toEqualTypeOf<Consumer>();
    bus.consume(
      'user.signed_up',
      (event) => {
        expectTypeOf(event).toEqualTypeOf<StoredEvent<'user.signed_up', { email: string }>>();
      },
      { group: 'g2', concurrency: 2, from: 'start' },
    );
  });

  it('rejects malformed options', () => {
    // @ts-expect-error group is required
    bus.consume('task.*', () => {}, {});
    // @ts-expect-error from is 'now' or 'start'
    bus.consume('task.*', () => {}, { group: 'g', from: { after: 'c' } });
  });

  it('types stats and dead letters', () => {
    expectTypeOf<ReturnType<Consumer['stats']>>().toEqualTypeOf<ConsumerStats>();
    expectTypeOf(bus.deadLetters('g').list()).resolves.toEqualTypeOf<DeadLetter[]>();
    expectTypeOf(bus.deadLetters('g').redrive(['id'])).resolves.toBeNumber();
  });
});
