// Hostile input at every public entry point gives a typed error (a BuslineError with a code)
// or works; never a TypeError, a crash, a hang or a half-written store (issue #17).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type BuslineError,
  Deduplicator,
  EventBus,
  MemoryEventStore,
  parsePattern,
  RateLimiter,
} from '../../src/index.js';
import { formatSSE } from '../../src/sse/index.js';
import { hostileString, hostileValue, typedOrFine } from './hostile.js';

const RUNS = { numRuns: 300 };

describe('hostile input at the public entry points', () => {
  it('publish and publishBatch: any envelope field gives a typed error or a valid event, never pollution', async () => {
    const store = new MemoryEventStore();
    const bus = new EventBus({ store, onError: () => {} });
    await fc.assert(
      fc.asyncProperty(
        fc.record(
          {
            id: hostileValue,
            type: hostileValue,
            stream: hostileValue,
            time: hostileValue,
            data: hostileValue,
            meta: hostileValue,
          },
          { requiredKeys: [] },
        ),
        async (event) => {
          await typedOrFine(() => bus.publish(event as never));
          await typedOrFine(() => bus.publishBatch([event as never, { type: 'ok', data: 1 }]));
        },
      ),
      RUNS,
    );
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('type');
    // Whatever was stored is whole: every stored event reads back as a valid envelope.
    const { events } = await store.read({ limit: 10_000 });
    for (const event of events) expect(typeof event.cursor).toBe('string');
    await bus.close();
  });

  it('on, once and subscribe: any pattern, stream, cursor or option gives a typed error or a subscription', async () => {
    const bus = new EventBus({ onError: () => {} });
    await bus.publish({ type: 'a.b', data: 1 });
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(hostileValue, fc.array(hostileString, { maxLength: 300 })),
        fc.record(
          {
            stream: hostileValue,
            from: fc.oneof(
              hostileValue,
              fc.record({ after: hostileValue }),
              fc.record({ since: hostileValue }),
            ),
            bufferSize: hostileValue,
            overflow: hostileValue,
            onTruncated: hostileValue,
            concurrency: hostileValue,
            maxPending: hostileValue,
            timeoutMs: hostileValue,
          },
          { requiredKeys: [] },
        ),
        async (pattern, options) => {
          await typedOrFine(() => bus.on(pattern as never, () => {}, options as never)());
          await typedOrFine(async () => {
            const sub = bus.subscribe(pattern as never, options as never);
            // A forged cursor must end in a typed error or events, not a hang.
            const first = await Promise.race([
              sub.next(),
              new Promise((resolve) => setTimeout(() => resolve('waiting'), 20)),
            ]);
            await sub.return();
            return first;
          });
          await typedOrFine(() => {
            const waiting = bus.once(pattern as never, { ...(options as object), timeoutMs: 1 } as never);
            return waiting.catch((error: unknown) => {
              if ((error as BuslineError).code !== 'TIMEOUT') throw error;
            });
          });
        },
      ),
      RUNS,
    );
    await bus.close();
  });

  it('store reads: any cursor, type list or range gives a typed error or a page', async () => {
    const store = new MemoryEventStore();
    await store.append([{ id: 'a', type: 'x', stream: 's', time: 1, data: 1 }]);
    await fc.assert(
      fc.asyncProperty(
        fc.record(
          {
            after: hostileValue,
            types: hostileValue,
            stream: hostileValue,
            since: hostileValue,
            until: hostileValue,
            limit: hostileValue,
            direction: hostileValue,
          },
          { requiredKeys: [] },
        ),
        async (query) => typedOrFine(() => store.read(query as never)),
      ),
      RUNS,
    );
  });

  it('parsePattern, the deduplicator, the limiter and formatSSE: typed errors or results', async () => {
    const dedup = new Deduplicator();
    const limiter = new RateLimiter({ rate: 10 });
    await fc.assert(
      fc.asyncProperty(hostileValue, hostileValue, async (value, n) => {
        await typedOrFine(() => parsePattern(value));
        await typedOrFine(() => dedup.checkAndMark(value as never));
        await typedOrFine(() => limiter.tryTake(value as never, n as never));
        await typedOrFine(() =>
          formatSSE({
            id: 'i',
            type: value as never,
            stream: 's',
            time: 0,
            data: value,
            cursor: value as never,
          }),
        );
      }),
      RUNS,
    );
  });
});

describe('data that fights back (security review: JSON hazards)', () => {
  it('a throwing getter, a throwing toJSON or a proxy trap gives INVALID_EVENT and publishes nothing', async () => {
    const bus = new EventBus({ onError: () => {} });
    const hostile = [
      {
        get x() {
          throw new Error('boom');
        },
      },
      {
        toJSON: () => {
          throw new Error('no');
        },
      },
      new Proxy(
        {},
        {
          ownKeys: () => {
            throw new Error('trap');
          },
        },
      ),
    ];
    for (const data of hostile) {
      await expect(bus.publish({ type: 'h', data })).rejects.toMatchObject({ code: 'INVALID_EVENT' });
      await expect(
        bus.publishBatch([
          { type: 'h', data: 1 },
          { type: 'h', data },
        ]),
      ).rejects.toMatchObject({
        code: 'INVALID_EVENT',
        index: 1,
      });
    }
    expect((await bus.storeStats())?.events).toBe(0);
    await bus.close();
  });
});
