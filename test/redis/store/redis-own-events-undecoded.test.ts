import { describe, expect, it } from 'vitest';
import { EventBus, type StoredEvent } from '../../../src/index.js';
import { RedisEventStore } from '../../../src/redis/index.js';
import type { TailOptions } from '../../../src/store/event-store.js';
import { redisTestFile } from './redis-fixtures.js';

const redis = redisTestFile('own-events');

/**
 * A RedisEventStore whose tail counts what it hands the bus decoded, and what the bus's skip
 * hint answered: the real store and the real feed, only observed.
 */
class ObservedStore extends RedisEventStore {
  decoded: StoredEvent[] = [];
  skipped = 0;

  override tail(after: string, signal: AbortSignal, options?: TailOptions): AsyncIterable<StoredEvent> {
    const skip = options?.skip;
    const observed: TailOptions = {
      skip: (id, type, cursor) => {
        const answer = skip?.(id, type, cursor) ?? false;
        if (answer) this.skipped++;
        return answer;
      },
    };
    const inner = super.tail(after, signal, observed);
    const decoded = this.decoded;
    return {
      async *[Symbol.asyncIterator]() {
        for await (const event of inner) {
          decoded.push(event);
          yield event;
        }
      },
    };
  }
}

function store(): ObservedStore {
  return new ObservedStore({ client: redis.client, prefix: redis.prefix() });
}

describe('a publisher on Redis with no local subscriber for its events', () => {
  it('is answered from the feed without decoding its own events, with the store’s cursors', async () => {
    const observed = store();
    // Long enough that a publish left waiting for its event would outlast the test's timeout.
    const bus = new EventBus({ store: observed, feedTimeoutMs: 60_000 });
    await bus.ready();
    const single = await bus.publish({ type: 'ingest.received', data: { n: 0 } });
    const batch = await bus.publishBatch(
      Array.from({ length: 300 }, (_, i) => ({
        type: 'ingest.received',
        stream: `s${i % 3}`,
        data: { n: i },
      })),
    );
    for (const result of [single, ...batch]) {
      expect(result.status).toBe('delivered');
      expect(result.deliveredTo).toBe(0);
    }
    const { events } = await observed.read({ limit: 1000 });
    expect(events.map((e) => e.cursor)).toEqual([single, ...batch].map((r) => r.cursor));
    expect(observed.decoded).toEqual([]);
    expect(observed.skipped).toBe(301);
    await bus.close();
    await observed.close();
  }, 20_000);

  it('still decodes and delivers the types it subscribes to, and counts them', async () => {
    const observed = store();
    const bus = new EventBus({ store: observed, feedTimeoutMs: 60_000 });
    const seen: unknown[] = [];
    bus.on('ingest.audited', (event) => {
      seen.push(event.data);
    });
    await bus.ready();
    const results = await bus.publishBatch([
      { type: 'ingest.received', data: 1 },
      { type: 'ingest.audited', data: 2 },
      { type: 'ingest.received', data: 3 },
    ]);
    expect(results.map((r) => r.deliveredTo)).toEqual([0, 1, 0]);
    expect(seen).toEqual([2]);
    expect(observed.decoded.map((e) => e.data)).toEqual([2]);
    await bus.close();
    await observed.close();
  }, 20_000);
});
