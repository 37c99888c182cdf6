import { appendOwned } from '../../src/store/memory/memory-event-store.js';
import {
  type AppendResult,
  type BusEvent,
  type EventStore,
  MemoryEventStore,
  type StoredEvent,
} from './lib.js';
import type { Prng } from './prng.js';
import type { Scheduler } from './scheduler.js';
import type { StoredRecord } from './sim-store.js';

/**
 * A bus's store of its own, with no tail: the default `MemoryEventStore` (what `new EventBus()`
 * uses), so the bus delivers its events when it publishes them, not through a feed. Nothing
 * else shares it. It records what it stored in the same shape as the shared SimStore's log,
 * so the checker holds this bus to the same invariants against its own ground truth.
 *
 * `fastPath`: the view keeps the memory store's synchronous path for the bus's own events
 * (`appendOwned`, what the default bus uses); without it the bus appends through the async
 * port, as with a tail-less store of the user's own. Either way the memory store applies an
 * append inside the call, so an event's `appliedOrdinal` is the scheduler's tick at the call.
 * Its bounds are far above what a run stores: nothing is trimmed (`trimmedHigh` stays 0).
 */
export class PrivateStore {
  readonly log: StoredRecord[] = [];
  readonly trimmedHigh = 0;
  readonly #store = new MemoryEventStore({ maxEventsPerStream: 1_000_000, maxEvents: 1_000_000 });
  readonly #sched: Scheduler;
  readonly fastPath: boolean;
  /**
   * When set (the run injects append failures), an append through the async port fails now and
   * then before it applies anything, as a user's store that lost its database would: the
   * publish rejects, nothing is stored or delivered, and a retry with the same id goes through.
   */
  readonly #failures: { rng: Prng; calm: () => boolean } | undefined;
  #calls = 0;

  constructor(sched: Scheduler, fastPath: boolean, failures?: { rng: Prng; calm: () => boolean }) {
    this.#sched = sched;
    this.fastPath = fastPath;
    this.#failures = failures;
  }

  /** What the bus is given: the store without `tail` (and so private to it). */
  get view(): EventStore {
    const store = this.#store;
    const view: EventStore & { [appendOwned]?: unknown } = {
      append: async (events) => {
        const failures = this.#failures;
        if (failures !== undefined && !failures.calm() && failures.rng.chance(0.08)) {
          this.#sched.log(`private append of ${events.length} failed before applying (simulated)`);
          throw new Error('simulated: the private store failed before applying the append');
        }
        const applied = this.#applied();
        // Applied inside the call; the results come a microtask later, in call order.
        const results = await store.append(events);
        this.#record(events, results, applied);
        return results;
      },
      read: (query) => store.read(query),
      has: (id) => store.has(id),
      cleanup: (now) => store.cleanup(now),
      stats: () => store.stats(),
      close: () => store.close(),
    };
    if (this.fastPath) {
      view[appendOwned] = (events: StoredEvent[], generated: boolean | readonly boolean[]) => {
        const applied = this.#applied();
        const results = store[appendOwned](events, generated);
        this.#record(events, results, applied);
        return results;
      };
    }
    return view;
  }

  #applied(): { appliedOrdinal: number; appliedAt: number; call: number } {
    return { appliedOrdinal: this.#sched.tick(), appliedAt: this.#sched.now, call: ++this.#calls };
  }

  #record(
    events: readonly BusEvent[],
    results: readonly AppendResult[],
    applied: { appliedOrdinal: number; appliedAt: number; call: number },
  ): void {
    results.forEach((result, i) => {
      if (result.duplicate) return;
      this.log.push({
        seq: this.log.length + 1,
        cursor: result.cursor,
        event: { ...events[i]!, cursor: result.cursor },
        trimmedOrdinal: undefined,
        ...applied,
      });
    });
  }
}
