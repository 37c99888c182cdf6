import fc from 'fast-check';
import { expect, it } from 'vitest';
import { EventBus, type EventStore, MemoryEventStore } from '../../src/index.js';

/**
 * Regression (found by the portable runtime suite): a replaying subscription turned live one
 * turn after it had handed over its last held event. An event dispatched in that turn (a
 * publisher awaiting its publishes back to back, with no macrotask between them) was held and
 * never handed over: `subscribe('task.*', { from: 'start', bufferSize: 8 })` then 100 awaited
 * publishes lost event 2, every time. Varied here over the stored/live split, the buffer size,
 * other traffic in between, and the store seen through the port or through the bus's fast path.
 */
it('a replay hands over to live with no gap while publishes follow each other without a macrotask', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.record({
        stored: fc.integer({ min: 0, max: 60 }),
        live: fc.integer({ min: 1, max: 60 }),
        bufferSize: fc.constantFrom(1, 2, 8, 64, 1024),
        noise: fc.boolean(),
        throughPort: fc.boolean(),
      }),
      async ({ stored, live, bufferSize, noise, throughPort }) => {
        const memory = new MemoryEventStore();
        const store: EventStore = throughPort
          ? {
              append: (events) => memory.append(events),
              read: (query) => memory.read(query),
              stats: () => memory.stats(),
              close: () => memory.close(),
            }
          : memory;
        const bus = new EventBus({ store });
        for (let n = 0; n < stored; n++) await bus.publish({ type: 'task.updated', data: n });
        const total = stored + live;
        const seen: number[] = [];
        const reading = (async () => {
          for await (const event of bus.subscribe('task.*', { from: 'start', bufferSize })) {
            seen.push(event.data as number);
            if (seen.length === total) break;
          }
        })();
        for (let n = stored; n < total; n++) {
          await bus.publish({ type: 'task.updated', data: n });
          if (noise) await bus.publish({ type: 'noise.x', data: n });
        }
        const finished = await Promise.race([
          reading.then(() => true),
          new Promise((resolve) => setTimeout(() => resolve(false), 2000)),
        ]);
        await bus.close();
        expect({ finished, seen }).toEqual({
          finished: true,
          seen: Array.from({ length: total }, (_, i) => i),
        });
      },
    ),
    { numRuns: 60 },
  );
});
