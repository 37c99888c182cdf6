import { HistoryTruncatedError } from '../errors.js';
import type { StoredEvent } from '../event.js';
import { READ_LIMITS } from '../store/event-store.js';
import { CONSUMER_GROUP_LIMITS } from './consumer-group-options.js';
import { capDeliveryError, DeadLetterList, type DeliveryError } from './dead-letters.js';
import type { Delivery, GroupMember, JoinRequest } from './group-backend.js';
import type { MemoryGroupContext } from './memory-group-backend.js';

/** A pending entry: read into the group and not yet acknowledged (Redis: the PEL). */
interface Entry {
  readonly event: StoredEvent;
  deliveries: number;
  /** The delivery that may settle it now; `null` while it waits for a retry or a member. */
  current: Delivery | null;
  owner: MemoryMember | null;
  retryTimer: ReturnType<typeof setTimeout> | undefined;
}

/**
 * One consumer group of the in-process backend: a cursor into the store (the group's
 * position), the pending entries, the entries ready for redelivery and the dead letters.
 */
export class MemoryGroup {
  readonly name: string;
  /** Sorted, so the same patterns in another order are the same group. */
  readonly types: readonly string[];
  readonly #context: MemoryGroupContext;
  readonly #members = new Set<MemoryMember>();
  /** By event id. */
  readonly #pending = new Map<string, Entry>();
  /** Pending entries no one holds, in cursor order: claimed before new events. */
  readonly #ready: Entry[] = [];
  readonly dead = new DeadLetterList(CONSUMER_GROUP_LIMITS.maxDeadLetters);
  /** The last cursor read into the group; `undefined`: from the oldest retained event. */
  #cursor: string | undefined;
  /** Reads of new events run one at a time: each moves the cursor the next one starts from. */
  #reading: Promise<unknown> = Promise.resolve();
  #reportedTruncationAt: string | undefined | null = null;

  constructor(name: string, types: readonly string[], context: MemoryGroupContext) {
    this.name = name;
    this.types = types;
    this.#context = context;
  }

  /** Positions a new group: after the newest stored event (`'now'`), or before the oldest. */
  async position(from: 'now' | 'start'): Promise<void> {
    if (from === 'start') return;
    const newest = await this.#context.store.read({ direction: 'backward', limit: 1 });
    this.#cursor = newest.events[0]?.cursor;
  }

  join(request: JoinRequest): GroupMember {
    const member = new MemoryMember(this, request.notify);
    this.#members.add(member);
    return member;
  }

  get pendingCount(): number {
    return this.#pending.size;
  }

  async claim(member: MemoryMember, max: number): Promise<Delivery[]> {
    const out: Delivery[] = [];
    while (out.length < max && this.#ready.length > 0) out.push(this.#hand(this.#ready.shift()!, member));
    if (out.length === max) return out;
    let events: StoredEvent[];
    try {
      events = await this.#serialized(() => this.#readNew(max - out.length));
    } catch (error) {
      // The read failed (store down): the retries taken above go back to the ready list, in
      // order, or they would stay pending with an owner that never got them.
      for (const delivery of out) {
        const entry = this.#entryOf(delivery);
        if (entry === undefined) continue;
        entry.deliveries--;
        entry.current = null;
        entry.owner = null;
        this.#makeReady(entry);
      }
      throw error;
    }
    for (const event of events) {
      const entry: Entry = { event, deliveries: 0, current: null, owner: null, retryTimer: undefined };
      this.#pending.set(event.id, entry);
      // A member that left (or a backend that closed) during the read leaves them to the others.
      if (member.left || this.#context.closed) this.#makeReady(entry);
      else out.push(this.#hand(entry, member));
    }
    if (member.left && events.length > 0) this.#notifyAll();
    return out;
  }

  ack(delivery: Delivery): void {
    const entry = this.#entryOf(delivery);
    if (entry !== undefined) this.#pending.delete(entry.event.id);
  }

  /** The error is not kept: only a dead letter reports the last one. */
  retry(delivery: Delivery, delayMs: number): void {
    const entry = this.#entryOf(delivery);
    if (entry === undefined) return;
    entry.current = null;
    entry.owner = null;
    if (delayMs === 0 || this.#context.closed) {
      this.#makeReady(entry);
      this.#notifyAll();
      return;
    }
    entry.retryTimer = setTimeout(() => {
      entry.retryTimer = undefined;
      this.#makeReady(entry);
      this.#notifyAll();
    }, delayMs);
  }

  deadLetter(delivery: Delivery, error: DeliveryError): void {
    const entry = this.#entryOf(delivery);
    if (entry === undefined) return;
    this.#pending.delete(entry.event.id);
    this.dead.add({
      event: entry.event,
      group: this.name,
      deliveries: entry.deliveries,
      lastError: { ...capDeliveryError(error) },
      deadAt: this.#context.clock(),
    });
  }

  leave(member: MemoryMember): void {
    if (member.left) return;
    member.left = true;
    this.#members.delete(member);
    let released = 0;
    for (const entry of this.#pending.values()) {
      if (entry.owner !== member) continue;
      entry.owner = null;
      entry.current = null;
      this.#makeReady(entry);
      released++;
    }
    if (released > 0) this.#notifyAll();
  }

  redrive(ids: readonly string[] | undefined): number {
    const letters = this.dead.take(ids);
    for (const { event } of letters) {
      const entry: Entry = { event, deliveries: 0, current: null, owner: null, retryTimer: undefined };
      this.#pending.set(event.id, entry);
      this.#makeReady(entry);
    }
    if (letters.length > 0) this.#notifyAll();
    return letters.length;
  }

  /** Stops retry timers: their entries become ready, for nobody (the backend is closing). */
  stopTimers(): void {
    for (const entry of this.#pending.values()) {
      if (entry.retryTimer === undefined) continue;
      clearTimeout(entry.retryTimer);
      entry.retryTimer = undefined;
    }
  }

  #hand(entry: Entry, member: MemoryMember): Delivery {
    entry.deliveries++;
    entry.owner = member;
    entry.current = { event: entry.event, deliveries: entry.deliveries };
    return entry.current;
  }

  /** The pending entry a delivery may still settle, or `undefined` for a stale delivery. */
  #entryOf(delivery: Delivery): Entry | undefined {
    const entry = this.#pending.get(delivery.event.id);
    return entry?.current === delivery ? entry : undefined;
  }

  #makeReady(entry: Entry): void {
    const ready = this.#ready;
    const cursor = entry.event.cursor;
    let i = ready.length;
    while (i > 0 && ready[i - 1]!.event.cursor > cursor) i--;
    ready.splice(i, 0, entry);
  }

  #notifyAll(): void {
    for (const member of this.#members) member.notify();
  }

  #serialized<T>(read: () => Promise<T>): Promise<T> {
    const run = this.#reading.then(read);
    this.#reading = run.catch(() => undefined);
    return run;
  }

  async #readNew(limit: number): Promise<StoredEvent[]> {
    // A store with a scan budget may answer a page with no events and a `next`: read on from
    // there (a few pages per claim, so one claim stays bounded too).
    for (let pages = 0; pages < 16; pages++) {
      const { events, more } = await this.#readPage(limit);
      if (events.length > 0 || !more) return events;
    }
    return [];
  }

  async #readPage(limit: number): Promise<{ events: StoredEvent[]; more: boolean }> {
    if (this.#context.closed) return { events: [], more: false };
    const after = this.#cursor;
    const page = await this.#context.store.read({
      after,
      types: this.types,
      limit: Math.min(limit, READ_LIMITS.maxLimit),
    });
    if (page.truncated && this.#reportedTruncationAt !== after) {
      // Once per position: with a types filter the removed events may not even have matched.
      this.#reportedTruncationAt = after;
      this.#context.report(
        new HistoryTruncatedError(
          `Consumer group "${this.name}": events after cursor ${after} were removed by retention before the group read them; it resumes at the oldest retained event`,
        ),
        this.types,
      );
    }
    const last = page.events[page.events.length - 1];
    if (last !== undefined) this.#cursor = last.cursor;
    else if (page.next !== undefined) this.#cursor = page.next;
    return { events: page.events, more: page.next !== undefined };
  }
}

/** A member's handle; all state lives in the group. */
class MemoryMember implements GroupMember {
  left = false;
  readonly #group: MemoryGroup;
  readonly notify: () => void;

  constructor(group: MemoryGroup, notify: () => void) {
    this.#group = group;
    this.notify = notify;
  }

  async claim(max: number): Promise<Delivery[]> {
    return this.left ? [] : this.#group.claim(this, max);
  }

  async ack(delivery: Delivery): Promise<void> {
    this.#group.ack(delivery);
  }

  async retry(delivery: Delivery, _error: DeliveryError, delayMs: number): Promise<void> {
    this.#group.retry(delivery, delayMs);
  }

  async deadLetter(delivery: Delivery, error: DeliveryError): Promise<void> {
    this.#group.deadLetter(delivery, error);
  }

  pending(): number {
    return this.#group.pendingCount;
  }

  async leave(): Promise<void> {
    this.#group.leave(this);
  }
}
