import { InvalidOptionError } from '../errors.js';
import type { StoredEvent } from '../event.js';
import type { DeadLetter, DeliveryError } from './dead-letters.js';

/**
 * The port behind `bus.consume`: where a group's position, pending entries and dead letters
 * live, and who hands events out. The in-process implementation is MemoryGroupBackend; a
 * Redis one maps onto XGROUP CREATE / XREADGROUP / XACK / XAUTOCLAIM.
 *
 * The split of work: a backend owns the group's *state* and hands events out so that each
 * goes to one member; the Consumer (consumer.ts) owns the *policy*: it runs handlers,
 * enforces `ackTimeoutMs` on them, counts against `maxDeliveries` and picks the backoff,
 * then tells the backend `ack`, `retry` or `deadLetter`. Wake-ups for new events come from
 * the bus (ConsumerGroups watches the group's patterns); a backend only calls `notify` for
 * work that appears without a new event (a retry falls due, a member leaves, a redrive).
 */
export interface GroupBackend {
  /**
   * Joins `group`, creating it positioned at `from` if it does not exist yet (an existing
   * group keeps its position whatever `from` says). Concurrent joins of one new group create
   * it once. Rejects with InvalidOptionError when the group exists with other patterns.
   */
  join(request: JoinRequest): Promise<GroupMember>;
  /** The group's dead letters, oldest first; `[]` for a group that does not exist. */
  listDeadLetters(group: string): Promise<DeadLetter[]>;
  /** How many dead letters the group holds, without reading them (for `bus.health()`). */
  countDeadLetters(group: string): Promise<number>;
  /** Puts dead letters back as pending with a fresh delivery count; resolves with how many. */
  redrive(group: string, ids: readonly string[] | undefined): Promise<number>;
  /** Stops timers and rejects further calls with ClosedError. Members have left before. */
  close(): Promise<void>;
}

export interface JoinRequest {
  group: string;
  /** Unique per consumer (Redis: the XREADGROUP consumer name). */
  consumer: string;
  /** The group's patterns as written (`task.*`); fixed when the group is created. */
  types: readonly string[];
  from: 'now' | 'start';
  /**
   * How long this member may hold a delivery: its handler times out then. A backend shared by
   * processes reclaims a delivery held longer than this from a member that died (XAUTOCLAIM).
   */
  ackTimeoutMs: number;
  /**
   * Called when deliveries may have become available without a new event being published:
   * a retry fell due, another member left work behind, dead letters were redriven.
   */
  notify(): void;
}

/** One hand-over of an event to one member. Backends may attach what they need to find it again. */
export interface Delivery {
  readonly event: StoredEvent;
  /**
   * Deliveries of this event to the group so far, this one included (1 the first time): the
   * handler's `context.deliveries`, and a dead letter's count. Kept across members and retries.
   */
  readonly deliveries: number;
}

/**
 * One consumer's handle on its group. Every method that takes a delivery ignores one that is
 * no longer this member's (it timed out and went to someone else, or the member left): a
 * late result must never settle another member's delivery.
 */
export interface GroupMember {
  /**
   * Up to `max` deliveries for this member: pending entries that are due first (retries,
   * work left behind, redriven dead letters), then events after the group's position, in
   * cursor order; the position moves past what was handed out. Empty when nothing is
   * available now: wait for a wake-up.
   */
  claim(max: number): Promise<Delivery[]>;
  /** Done: the entry leaves the group's pending list (XACK). */
  ack(delivery: Delivery): Promise<void>;
  /** Failed: the entry stays pending and becomes claimable by any member after `delayMs`. */
  retry(delivery: Delivery, error: DeliveryError, delayMs: number): Promise<void>;
  /** Failed for the last time: the entry moves to the group's dead letters (atomically with the ack). */
  deadLetter(delivery: Delivery, error: DeliveryError): Promise<void>;
  /**
   * Entries of the group not yet acknowledged: being handled, waiting for a retry, or ready
   * for redelivery. Synchronous for `stats()`: a remote backend returns its last known count.
   */
  pending(): number;
  /**
   * Leaves the group. Deliveries this member still holds become claimable by the others at
   * once (or by the next member to join); their delivery count is kept.
   */
  leave(): Promise<void>;
}

/** What the bus gives a backend a store provides. */
export interface GroupBackendContext {
  /** The bus clock, for `deadAt`. */
  clock: () => number;
  /** Reports a problem no caller is waiting for (history lost to retention), with the group's patterns. */
  report: (error: unknown, patterns: readonly string[]) => void;
}

/**
 * A store that keeps consumer groups itself (the Redis store: across processes) offers a
 * backend under this key; the bus uses it instead of the in-process one. `Symbol.for`, so the
 * ESM and CJS builds agree on it.
 */
export const GROUP_BACKEND: unique symbol = Symbol.for('busline.groupBackend') as never;

export interface GroupBackendProvider {
  [GROUP_BACKEND](context: GroupBackendContext): GroupBackend;
}

export function providesGroupBackend(store: object): store is GroupBackendProvider {
  return typeof (store as Partial<GroupBackendProvider>)[GROUP_BACKEND] === 'function';
}

/** A group's patterns as it is identified by them: the same patterns in any order, or repeated, are one group. */
export function groupTypes(types: readonly string[]): string[] {
  return [...new Set(types)].sort();
}

/** The error of a join whose patterns differ from those the group was created with. */
export function patternsMismatch(
  group: string,
  existing: string,
  requested: readonly string[],
): InvalidOptionError {
  return new InvalidOptionError(
    `Consumer group "${group}" consumes ${existing}, not ${JSON.stringify(requested)}: a group's patterns are fixed when it is created`,
  );
}
