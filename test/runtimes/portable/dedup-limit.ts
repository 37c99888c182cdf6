import { Deduplicator, EventBus, RateLimiter } from 'busline';
import { deepEqual, equal, failsWith, manualClock, test } from './harness.js';

/** Registers this module's tests (suite.ts says why a call, not an import for effect). */
export function dedupLimitTests(): void {
  test('dedup: remembers ids for the window and forgets them by 1.25 × window', () => {
    const clock = manualClock();
    const dedup = new Deduplicator({ windowMs: 1000, clock: clock.now });
    equal(dedup.checkAndMark('a'), false);
    equal(dedup.checkAndMark('a'), true);
    clock.advance(1000);
    equal(dedup.isDuplicate('a'), true, 'at windowMs');
    clock.advance(250);
    equal(dedup.isDuplicate('a'), false, 'at 1.25 × windowMs');
  });

  test('dedup: no false negatives and few false positives over 20,000 ids', () => {
    const clock = manualClock();
    const dedup = new Deduplicator({
      windowMs: 60_000,
      expectedEvents: 10_000,
      falsePositiveRate: 0.01,
      clock: clock.now,
    });
    for (let i = 0; i < 10_000; i++) dedup.markSeen(`seen-${i}`);
    let missed = 0;
    for (let i = 0; i < 10_000; i++) if (!dedup.isDuplicate(`seen-${i}`)) missed++;
    let falsePositives = 0;
    for (let i = 0; i < 10_000; i++) if (dedup.isDuplicate(`fresh-${i}`)) falsePositives++;
    equal(missed, 0, 'seen ids reported new');
    // 1 % of 10,000 is 100; 3 standard deviations above it is about 130.
    equal(falsePositives <= 130, true, `false positives ${falsePositives}`);
  });

  test('dedup: the bus refuses a second publish of the same id', async () => {
    const bus = new EventBus();
    const delivered: unknown[] = [];
    bus.on('pay.*', (event) => void delivered.push(event.data));
    equal((await bus.publish({ id: 'pay-1', type: 'pay.done', data: 1 })).status, 'delivered');
    equal((await bus.publish({ id: 'pay-1', type: 'pay.done', data: 2 })).status, 'duplicate');
    deepEqual(delivered, [1]);
    await bus.close();
  });

  test('rate limiter: a token bucket per key refills with time', () => {
    const clock = manualClock();
    const limiter = new RateLimiter({ rate: 2, intervalMs: 1000, clock: clock.now });
    deepEqual(
      [limiter.tryTake('k'), limiter.tryTake('k'), limiter.tryTake('k'), limiter.tryTake('other')],
      [true, true, false, true],
    );
    clock.advance(500);
    deepEqual([limiter.tryTake('k'), limiter.tryTake('k')], [true, false]);
    equal(limiter.stats().limited, 2);
  });

  test('rate limiter: the bus drops or throws over the limit', async () => {
    const clock = manualClock();
    const dropping = new EventBus({
      clock: clock.now,
      rateLimit: { rate: 1, intervalMs: 1000, clock: clock.now },
    });
    equal((await dropping.publish({ type: 'a', data: 1 })).status, 'delivered');
    equal((await dropping.publish({ type: 'a', data: 2 })).status, 'rate_limited');
    const throwing = new EventBus({ rateLimit: { rate: 1, intervalMs: 60_000, onLimit: 'throw' } });
    await throwing.publish({ type: 'a', data: 1 });
    await failsWith(() => throwing.publish({ type: 'a', data: 2 }), 'RATE_LIMITED');
    await dropping.close();
    await throwing.close();
  });
}
