// What the public-surface property found (public-surface.test.ts), each kept as a plain test:
// before the fix, every one of these failed with a TypeError or RangeError from deep inside,
// or with an error that did not name the bad input. Redis ones: public-surface-redis.test.ts.
import { describe, expect, it } from 'vitest';
import {
  createEventId,
  Deduplicator,
  EventBus,
  MemoryEventStore,
  RateLimiter,
  TypeMatcher,
} from '../../src/index.js';
import { createSSEHandler, formatSSE, sseStream } from '../../src/sse/index.js';
import { createFakeClock, recordEvents } from '../../src/testing/index.js';

/** A BuslineError of `code` whose message names `name`. */
const named = (name: string, code = 'INVALID_OPTION') =>
  expect.objectContaining({ code, message: expect.stringContaining(name) });

const stored = { id: 'i', type: 'a.b', stream: 's', time: 0, data: 1, cursor: 'c1' };

describe('EventBus', () => {
  it('new EventBus(null) names the options', () => {
    expect(() => new EventBus(null as never)).toThrow(named('EventBus options'));
  });

  it('rateLimit: null names rateLimit', () => {
    expect(() => new EventBus({ rateLimit: null as never })).toThrow(named('`rateLimit`'));
  });

  it('a null schema names its type in schemas', () => {
    expect(() => new EventBus({ schemas: { '': null } as never })).toThrow(named('`schemas[""]`'));
  });

  it('publish(event, null) and publishBatch(events, null) name the options', async () => {
    const bus = new EventBus();
    await expect(bus.publish({ type: 'a', data: 1 }, null as never)).rejects.toEqual(
      named('publish options'),
    );
    await expect(bus.publishBatch([], null as never)).rejects.toEqual(named('publishBatch options'));
    await bus.close();
  });
});

describe('MemoryEventStore', () => {
  it('new MemoryEventStore(null) names the options', () => {
    expect(() => new MemoryEventStore(null as never)).toThrow(named('MemoryEventStore options'));
  });

  it('a clock that is not a function is refused when made, not at the first append', () => {
    expect(() => new MemoryEventStore({ clock: 0 as never, retentionMs: 1000 })).toThrow(named('`clock`'));
  });

  it('has(Symbol()) and cleanup(1n) name the argument', async () => {
    const store = new MemoryEventStore({ retentionMs: 1000 });
    await expect(store.has(Symbol('id') as never)).rejects.toEqual(named('id'));
    await expect(store.cleanup(1n as never)).rejects.toEqual(named('`now`'));
    await expect(store.cleanup(Number.NaN)).rejects.toEqual(named('`now`'));
  });
});

describe('Deduplicator', () => {
  it('new Deduplicator(null) names the options', () => {
    expect(() => new Deduplicator(null as never)).toThrow(named('Deduplicator options'));
  });

  it('expectedEvents: 2 ** 53 names the option instead of failing to allocate (RangeError)', () => {
    expect(() => new Deduplicator({ expectedEvents: 2 ** 53 })).toThrow(named('`expectedEvents`'));
    expect(() => new Deduplicator({ falsePositiveRate: 1e-300, expectedEvents: 1e8 })).toThrow(
      named('`falsePositiveRate`'),
    );
  });

  it('a `now` that is not a number names it', () => {
    const dedup = new Deduplicator();
    expect(() => dedup.checkAndMark('x', Symbol('now') as never)).toThrow(named('`now`'));
    expect(() => dedup.isDuplicate('x', Object.create(null))).toThrow(named('`now`'));
  });
});

describe('RateLimiter', () => {
  it('a clock that is not a function is refused when made', () => {
    expect(() => new RateLimiter({ rate: 10, clock: 0 as never })).toThrow(named('`clock`'));
  });

  it('take(key, n, 0) names the signal, also when it would wait', () => {
    const limiter = new RateLimiter({ rate: 1, intervalMs: 100 });
    limiter.tryTake('k');
    expect(() => limiter.take('k', 1, 0 as never)).toThrow(named('`signal`'));
  });

  it('tryTake with a `now` that is not a number, and stats(0n), name the argument', () => {
    const limiter = new RateLimiter({ rate: 10 });
    expect(() => limiter.tryTake('k', 1, Object.create(null))).toThrow(named('`now`'));
    expect(() => limiter.stats(0n as never)).toThrow(named('`top`'));
  });
});

describe('free functions', () => {
  it('TypeMatcher.matches(undefined) names the type', () => {
    expect(() => new TypeMatcher(['a.*']).matches(undefined as never)).toThrow(
      named('type', 'INVALID_EVENT'),
    );
  });

  it('createEventId(Object.create(null)) names nowMs', () => {
    expect(() => createEventId(Object.create(null))).toThrow(named('`nowMs`'));
    expect(() => createEventId(1n as never)).toThrow(named('`nowMs`'));
  });
});

describe('busline/sse', () => {
  it('formatSSE(undefined) and formatSSE(event, null) name what is wrong', () => {
    expect(() => formatSSE(undefined as never)).toThrow(named('event', 'INVALID_EVENT'));
    expect(() => formatSSE(stored, null as never)).toThrow(named('formatSSE options'));
  });

  it('formatSSE of an event holding a BigInt is INVALID_EVENT, not a TypeError', () => {
    expect(() => formatSSE({ ...stored, data: 0n })).toThrow(named('data', 'INVALID_EVENT'));
  });

  it('formatSSE with maxEventBytes: 0 names the option (it refused every event as too large)', () => {
    expect(() => formatSSE(stored, { maxEventBytes: 0 })).toThrow(named('`maxEventBytes`'));
    expect(formatSSE(stored, { maxEventBytes: Number.POSITIVE_INFINITY })).toContain('id: c1');
  });

  it('sseStream and createSSEHandler without a bus name it (the handler answered 500 to every request)', () => {
    expect(() => sseStream(undefined as never, { pattern: 'a' })).toThrow(named('`bus`'));
    expect(() => createSSEHandler(undefined as never, { pattern: 'a' })).toThrow(named('`bus`'));
  });
});

describe('busline/testing', () => {
  it('createFakeClock: advance(undefined) is an InvalidOptionError, not a RangeError', () => {
    expect(() => createFakeClock().advance(undefined as never)).toThrow(named('`ms`'));
    expect(() => createFakeClock(1n as never)).toThrow(named('`start`'));
    expect(() => createFakeClock().set(Symbol('t') as never)).toThrow(named('`epochMs`'));
  });

  it('recordEvents without a bus, and waitFor with a bad count or options, name them', async () => {
    expect(() => recordEvents(undefined as never, 'a.*')).toThrow(named('`bus`'));
    const bus = new EventBus();
    const recorder = recordEvents(bus, 'a.*');
    expect(() => recorder.waitFor(Symbol('n') as never)).toThrow(named('`count`'));
    expect(() => recorder.waitFor(1, null as never)).toThrow(named('waitFor options'));
    recorder.stop();
    await bus.close();
  });
});
