import { expect, it } from 'vitest';
import { EventBus } from '../../src/index.js';
import { READINGS_SHARED, tickClock } from '../../src/publish/tick-clock.js';

/** A clock that counts its readings and returns their number. */
function countingClock() {
  const clock = { reads: 0, read: () => ++clock.reads };
  return clock;
}

it('reads the clock once per READINGS_SHARED stamps within one synchronous run', () => {
  const source = countingClock();
  const now = tickClock(source.read);
  const stamps = Array.from({ length: READINGS_SHARED * 3 }, () => now());
  expect(source.reads).toBe(3);
  // Each reading serves exactly READINGS_SHARED stamps, in order: times never go backwards.
  expect(stamps).toEqual([1, 2, 3].flatMap((reading) => Array(READINGS_SHARED).fill(reading)));
});

it('reads the clock again after a microtask, however few stamps the reading served', async () => {
  const source = countingClock();
  const now = tickClock(source.read);
  expect(now()).toBe(1);
  expect(now()).toBe(1);
  await Promise.resolve();
  expect(now()).toBe(2);
  await new Promise((resolve) => setTimeout(resolve, 0));
  expect(now()).toBe(3);
  expect(source.reads).toBe(3);
});

it('an injected clock is read on every publish', async () => {
  let reads = 0;
  const bus = new EventBus({ store: null, clock: () => 1_000 + ++reads });
  const published = await Promise.all(
    Array.from({ length: 20 }, () => bus.publish({ type: 'a', data: null })),
  );
  expect(reads).toBeGreaterThanOrEqual(20);
  const times: number[] = [];
  bus.on('a', (event) => {
    times.push(event.time);
  });
  for (let i = 0; i < 3; i++) await bus.publish({ type: 'a', data: null });
  expect(new Set(times).size).toBe(3);
  expect(published).toHaveLength(20);
  await bus.close();
});

it('with the default clock, events published in later turns carry later times', async () => {
  const bus = new EventBus({ store: null });
  const times: number[] = [];
  bus.on('a', (event) => {
    times.push(event.time);
  });
  const before = Date.now();
  await bus.publish({ type: 'a', data: 1 });
  await new Promise((resolve) => setTimeout(resolve, 5));
  await bus.publish({ type: 'a', data: 2 });
  const after = Date.now();
  expect(times[0]).toBeGreaterThanOrEqual(before);
  // A new turn reads the clock again: the second time is not the first one reused.
  expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(4);
  expect(times[1]).toBeLessThanOrEqual(after);
  await bus.close();
});
