import type { EventStore } from './lib.js';
import type { SimStore } from './sim-store.js';

/**
 * One bus's view of the shared store, as a process holds its own client of one Redis: it
 * names the bus to the store's tails (the latency check needs to know whose feed took an
 * event) and may lack `has`, so the gate confirms bloom positives from its own recent ids —
 * the path where a failed append once left an id "seen" (issue #13, defect 2). Even-numbered
 * buses' tails leave out the events their bus says it has no use for (TailOptions.skip).
 */
export function storeView(store: SimStore, bus: number, withHas: boolean): EventStore {
  const view: EventStore = {
    append: (events) => store.append(events),
    read: (query) => store.read(query),
    // Half the buses' tails honour the skip hint (as the Redis store's does), half ignore it.
    tail: (after, signal, options) =>
      store.openTail(after, signal, bus, bus % 2 === 0 ? options?.skip : undefined),
    cleanup: (now) => store.cleanup(now),
    stats: () => store.stats(),
    // Counted by the store: a bus must never close a store it was given.
    close: () => store.close(),
  };
  if (withHas) view.has = (id) => store.has(id);
  return view;
}
