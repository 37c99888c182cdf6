import { RedisEventStore } from '../../../src/redis/index.js';
import type { OwnRedis } from '../../redis/store/own-redis.js';
import { deletePrefix, uniquePrefix, waitFor } from '../../redis/store/redis-fixtures.js';
import { EventBus, type StoredEvent } from '../lib.js';
import { code, describeError, sleep } from './redis-model.js';
import { connectClient } from './redis-target.js';

/**
 * The case the seeded runs hit now and then, made deterministic: an iterator and a handler are
 * both behind (a full buffer, a full queue) and catching up from the store when Redis goes away
 * for longer than `commandTimeoutMs` (kill -9, restarted with its AOF a second later). Nothing
 * was lost and the epoch is the same, so both should continue without a gap once Redis is back.
 *
 * Seen today: the handler's catch-up reports the failed read to onError and tries again (it
 * gets every event); the iterator ends with STORE_UNAVAILABLE at its first failed read.
 */
export interface CatchUpOutage {
  published: string[];
  iteratorGot: string[];
  /** How the iterator's loop ended after the bus closed: undefined = normally. */
  iteratorError: string | undefined;
  iteratorErrorCode: string | undefined;
  handlerGot: string[];
  feedErrors: string[];
}

export async function catchUpThroughOutage(own: OwnRedis): Promise<CatchUpOutage> {
  const prefix = uniquePrefix('redis-sim-catch-up-outage');
  const client = await connectClient(own.url, 'busline-sim:catch-up-outage');
  const admin = await connectClient(own.url, 'busline-sim:catch-up-outage:admin');
  const store = new RedisEventStore({ client, prefix, commandTimeoutMs: 300, blockMs: 100 });
  const feedErrors: string[] = [];
  const bus = new EventBus({
    store,
    feedTimeoutMs: 2000,
    onError: (error, context) => feedErrors.push(`${context.source}: ${describeError(error)}`),
  });
  const result: CatchUpOutage = {
    published: [],
    iteratorGot: [],
    iteratorError: undefined,
    iteratorErrorCode: undefined,
    handlerGot: [],
    feedErrors,
  };
  try {
    const subscription = bus.subscribe('**', { bufferSize: 2 });
    // A handler that takes a while: with maxPending 1 its queue is full after two events.
    let releaseHandler!: () => void;
    const handlerGate = new Promise<void>((resolve) => {
      releaseHandler = resolve;
    });
    bus.on(
      '**',
      async (event: StoredEvent) => {
        result.handlerGot.push(event.cursor);
        await handlerGate;
      },
      { maxPending: 1 },
    );
    await bus.ready();
    for (let i = 0; i < 10; i++) {
      const r = await bus.publish({ id: `outage-${i}`, type: 'a.x', data: { n: i } });
      result.published.push(r.cursor!);
    }
    // Both are behind now: the iterator holds 2 of 10, the handler has 1 running and 1 queued.
    await own.kill();
    releaseHandler();
    const reading = (async () => {
      for await (const event of subscription) result.iteratorGot.push(event.cursor);
    })().catch((error: unknown) => {
      result.iteratorError = describeError(error);
      result.iteratorErrorCode = code(error);
    });
    await sleep(1000); // longer than commandTimeoutMs: every catch-up read in this window fails
    await own.start();
    // Bounded waits: the handler is known to get there; the iterator gets the same chance.
    await waitFor(() => result.handlerGot.length === 10, 10_000).catch(() => {});
    await waitFor(() => result.iteratorGot.length === 10 || result.iteratorError !== undefined, 5000).catch(
      () => {},
    );
    await bus.close();
    await reading;
    return result;
  } finally {
    await bus.close();
    await store.close();
    client.destroy();
    await deletePrefix(admin, prefix).catch(() => {});
    admin.destroy();
  }
}
