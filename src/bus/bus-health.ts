import { TimeoutError } from '../errors.js';
import type { GroupHealth } from '../groups/consumer-groups.js';
import type { EventStore } from '../store/event-store.js';
import { within } from '../within.js';

export type { GroupHealth };

/** An error as `bus.health()` reports it: enough to log or show, nothing that holds references. */
export interface HealthError {
  name: string;
  message: string;
  /** When it happened (the bus clock, epoch ms). */
  at: number;
}

/**
 * `bus.health()`: a snapshot a readiness probe can serve. `ok` is false when the bus is
 * closed, the store did not answer, or a shared store's live feed is not positioned (events
 * of other processes would not arrive).
 */
export interface BusHealth {
  ok: boolean;
  closed: boolean;
  /** `null` with `store: null`. */
  store: {
    /** The store answered `stats()` within the probe's time. */
    reachable: boolean;
    /** The last failure seen: of the probe, an append, or the live feed. */
    lastError?: HealthError;
  } | null;
  /** The live feed of a shared store (one with `tail`); `null` otherwise. */
  feed: {
    /** Placed in the store: every event stored from now on reaches this process. */
    positioned: boolean;
    /**
     * How long after its `time` the last event delivered to a subscriber here arrived (the
     * feed skips types nobody here subscribes to), clock skew between processes included.
     */
    lagMs?: number;
  } | null;
  /** Each consumer group with a consumer in this bus. */
  groups: GroupHealth[];
}

export function healthError(error: unknown, at: number): HealthError {
  if (error instanceof Error) return { name: error.name, message: error.message, at };
  return { name: 'Error', message: String(error), at };
}

/** Whether `store` answers `stats()` within `timeoutMs`: undefined when it did, else the failure. */
export async function probeStore(
  store: EventStore,
  timeoutMs: number,
  clock: () => number,
): Promise<HealthError | undefined> {
  let failure: unknown;
  try {
    if (await within(store.stats(), timeoutMs)) return undefined;
    failure = new TimeoutError(`The store did not answer within ${timeoutMs} ms`);
  } catch (error) {
    failure = error;
  }
  return healthError(failure, clock());
}
