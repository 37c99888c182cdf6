/**
 * The clock that stamps `event.time` (and the ids made from it) when the bus runs on the
 * default clock, `Date.now`. Reading the clock costs about 40 ns on the machines we measured
 * (kvm-clock), as much as the rest of the envelope's checks together, so one reading serves
 * up to READINGS_SHARED stamps in a row, within one synchronous run of code only: a
 * microtask ends the run, and the next stamp reads the clock again. Like nginx's time cached
 * per event-loop iteration, but bounded by a count as well.
 *
 * What that changes: an event can carry a time up to the duration of the code run since the
 * reading (at most READINGS_SHARED - 1 earlier publishes, their inline handlers and the
 * caller's own code between them, all in the same synchronous run) earlier than the true
 * time. Times still never go backwards, and nothing that delivery relies on reads it
 * (order is the store's cursor; dedup windows and rate limits read their own clock).
 * An injected `clock` (tests, simulations) is read on every stamp.
 */
export const READINGS_SHARED = 8;

export function tickClock(read: () => number): () => number {
  let now = 0;
  /** Stamps that may still take `now` without reading the clock. */
  let shared = 0;
  let expiring = false;
  const expire = (): void => {
    shared = 0;
    expiring = false;
  };
  return () => {
    if (shared > 0) {
      shared--;
      return now;
    }
    now = read();
    shared = READINGS_SHARED - 1;
    if (!expiring) {
      expiring = true;
      queueMicrotask(expire);
    }
    return now;
  };
}
