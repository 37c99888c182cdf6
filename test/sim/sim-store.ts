import { cursorOf, seqOf } from './cursors.js';
import type { FaultFlags } from './flags.js';
import {
  type AppendResult,
  type BusEvent,
  type EventStore,
  type ReadPage,
  type ReadQuery,
  type StoredEvent,
  type StoreStats,
  StoreUnavailableError,
  type TailOptions,
} from './lib.js';
import { matchesAny } from './patterns.js';
import type { Prng } from './prng.js';
import type { Scheduler } from './scheduler.js';
import { TailConnection } from './sim-tail.js';

/** One event as the store holds it, kept after trimming too: the model's ground truth. */
export interface StoredRecord {
  seq: number;
  cursor: string;
  event: StoredEvent;
  appliedAt: number;
  appliedOrdinal: number;
  /** Set when retention removed it. */
  trimmedOrdinal: number | undefined;
  /** The append call that stored it. */
  call: number;
}

type Outage = 'refuse' | 'hang' | undefined;

/** One append call, so the checker can tell which publish's append applied (by its `data` objects). */
export interface AppendCall {
  call: number;
  /** The `data` objects of the events sent: the bus passes the publisher's own. */
  data: unknown[];
  fault: 'ok' | 'fail' | 'timeout-applied' | 'slow-reply';
  applied: boolean;
}

/** When one bus's feed was offered an event (carried to its tail connection) and took it. */
export interface FeedHandOver {
  offeredAt: number;
  handedAt: number;
}

/**
 * A shared store (like Redis behind several processes) whose every completion is a scheduler
 * task, with the faults of FaultFlags. Apply and reply are separate tasks, so the event can be
 * visible to tails and reads before its append resolves, or stored although the append
 * rejects. The visibility order is the cursor order: an event is visible from the task that
 * applies it, and cursors are handed out in that same task.
 */
export class SimStore implements EventStore {
  readonly log: StoredRecord[] = [];
  /** Every seq at or below this was removed by retention. */
  trimmedHigh = 0;
  closeCalls = 0;
  readonly appends: AppendCall[] = [];
  /** Per bus (the tail's owner), per seq: the first hand-over of that event to its feed. */
  readonly feeds = new Map<number, Map<number, FeedHandOver>>();
  /** Windows in which the store was unreachable (`to` is Infinity while one lasts). */
  readonly outages: { from: number; to: number }[] = [];
  readonly #byId = new Map<string, StoredRecord>();
  readonly #tails = new Set<TailConnection>();
  readonly #sched: Scheduler;
  readonly #rng: Prng;
  readonly #faults: FaultFlags;
  #calls = 0;
  #outage: Outage;
  /** Calls made during a hanging outage: they fail when it ends. */
  #hung: (() => void)[] = [];
  /** No faults after the horizon: the run settles. */
  calm = false;

  constructor(sched: Scheduler, rng: Prng, faults: FaultFlags) {
    this.#sched = sched;
    this.#rng = rng;
    this.#faults = faults;
  }

  // ---- the port ----

  append(events: readonly BusEvent[]): Promise<AppendResult[]> {
    const call = ++this.#calls;
    // Copied now: the caller may reuse its objects; the store keeps what was sent.
    const batch = events.map((e) => ({ ...e }) as BusEvent);
    const fault = this.#appendFault();
    const record: AppendCall = { call, data: batch.map((e) => e.data), fault, applied: false };
    this.appends.push(record);
    const name = `store.append#${call}`;
    this.#sched.log(`${name} called [${batch.map((e) => e.id).join(',')}] fault=${fault}`);
    if (fault === 'ok' && this.#instant()) {
      const results = this.#apply(batch, call);
      record.applied = true;
      this.#sched.log(`${name} answered at once`);
      return Promise.resolve(results);
    }
    return new Promise((resolve, reject) => {
      this.#sched.schedule(this.#latency(), `${name} reaches the store`, () => {
        if (this.#unreachable(name, reject)) return;
        if (fault === 'fail') {
          this.#sched.log(`${name} FAILS (nothing stored)`);
          // A store may say so itself (a refusal before sending), or just throw.
          const message = `simulated: append #${call} failed, nothing stored`;
          reject(
            this.#rng.chance(0.5)
              ? new StoreUnavailableError(message, { mayHaveApplied: false })
              : new Error(message),
          );
          return;
        }
        const results = this.#apply(batch, call);
        record.applied = true;
        const reply =
          fault === 'slow-reply'
            ? this.#rng.int(100, 900)
            : fault === 'timeout-applied'
              ? this.#rng.int(50, 400)
              : this.#rng.int(0, 5);
        this.#sched.schedule(reply, `${name} reply (${fault})`, () => {
          if (fault === 'timeout-applied') {
            // A store may know the write may have applied (it was sent), or just throw its timeout.
            const message = `simulated: append #${call} timed out (it may have applied)`;
            reject(
              this.#rng.chance(0.5)
                ? new StoreUnavailableError(message, { mayHaveApplied: true })
                : new Error(message),
            );
          } else resolve(results);
        });
      });
    });
  }

  read(query: ReadQuery = {}): Promise<ReadPage> {
    const call = ++this.#calls;
    const name = `store.read#${call}`;
    this.#sched.log(`${name} called ${JSON.stringify(query)}`);
    if (this.#instant()) {
      try {
        const page = this.#page(query);
        this.#sched.log(
          `${name} answered at once: ${page.events.map((e) => e.cursor).join(',') || '(none)'}`,
        );
        return Promise.resolve(page);
      } catch (error) {
        return Promise.reject(error);
      }
    }
    return new Promise((resolve, reject) => {
      // With read races the snapshot and the reply are separate tasks: appends land in between.
      const race = this.#faults.readRaces;
      this.#sched.schedule(race ? this.#latency() : 1, `${name} snapshot`, () => {
        if (this.#unreachable(name, reject)) return;
        let page: ReadPage;
        try {
          page = this.#page(query);
        } catch (error) {
          reject(error);
          return;
        }
        this.#sched.log(
          `${name} snapshot: ${page.events.map((e) => e.cursor).join(',') || '(none)'}${page.next ? ` next=${page.next}` : ''}${page.truncated ? ' TRUNCATED' : ''}`,
        );
        this.#sched.schedule(race ? this.#rng.int(0, 15) : 0, `${name} reply`, () => resolve(page));
      });
    });
  }

  has(id: string): Promise<boolean> {
    const call = ++this.#calls;
    const name = `store.has#${call}`;
    return new Promise((resolve, reject) => {
      this.#sched.schedule(this.#latency(), `${name}(${id})`, () => {
        if (this.#unreachable(name, reject)) return;
        resolve(this.#byId.has(id));
      });
    });
  }

  /** `owner`: the bus whose feed reads it (StoreView passes it), for the hand-over records. */
  tail(
    after: string | 'start' | 'now',
    signal: AbortSignal,
    options?: TailOptions,
  ): AsyncIterable<StoredEvent> {
    return this.openTail(after, signal, undefined, options?.skip);
  }

  /** A tail read by bus `owner`'s feed (for the hand-over records), leaving out what `skip` says. */
  openTail(
    after: string | 'start' | 'now',
    signal: AbortSignal,
    owner: number | undefined,
    skip: ((id: string, type: string, cursor: () => string) => boolean) | undefined,
  ): AsyncIterable<StoredEvent> {
    const id = ++this.#calls;
    let position: number;
    let failure: Error | undefined;
    if (after === 'start') position = this.trimmedHigh;
    else if (after === 'now') position = this.log.length;
    else {
      try {
        position = seqOf(after);
      } catch (error) {
        position = this.log.length;
        failure = error as Error;
      }
    }
    if (this.#outage !== undefined) failure ??= new Error('simulated: store unreachable (outage)');
    const connection = new TailConnection(this, this.#sched, this.#rng, this.#faults, id, position, signal);
    connection.owner = owner;
    connection.skip = skip;
    this.#sched.log(
      `store.tail#${id} opened after ${after} (seq ${position})${failure ? ` failing: ${failure.message}` : ''}`,
    );
    if (failure) connection.fail(failure);
    else this.#tails.add(connection);
    return { [Symbol.asyncIterator]: () => connection };
  }

  cleanup(_now: number): Promise<number> {
    // Retention runs as a fault (trim) at moments the seed picks; a caller's cleanup finds nothing.
    return this.#later('store.cleanup', () => 0);
  }

  stats(): Promise<StoreStats> {
    return this.#later('store.stats', () => {
      const streams = new Set(this.#retained().map((r) => r.event.stream));
      return { events: this.log.length - this.trimmedHigh, streams: streams.size };
    });
  }

  /** Shared by every bus: a bus closing it must not break the others, so this only counts. */
  close(): Promise<void> {
    this.closeCalls++;
    return this.#later('store.close', () => undefined);
  }

  // ---- faults, driven by the run ----

  /** Retention: removes up to `count` of the oldest events stored at least `minAgeMs` ago. */
  trim(count: number, minAgeMs: number): void {
    const ordinal = this.#sched.tick();
    let removed = 0;
    while (removed < count && this.trimmedHigh < this.log.length) {
      const record = this.log[this.trimmedHigh]!;
      if (this.#sched.now - record.appliedAt < minAgeMs) break;
      record.trimmedOrdinal = ordinal;
      if (this.#byId.get(record.event.id) === record) this.#byId.delete(record.event.id);
      this.trimmedHigh++;
      removed++;
    }
    this.#sched.log(
      `FAULT retention trims ${removed} event(s): oldest retained is now seq ${this.trimmedHigh + 1}`,
    );
    for (const tail of this.#tails) tail.pump();
  }

  /** Drops one open tail connection (the bus must restart it). */
  dropTail(): void {
    const open = [...this.#tails];
    if (open.length === 0) return;
    const victim = this.#rng.pick(open);
    this.#sched.log(`FAULT store.tail#${victim.id} connection dropped`);
    victim.fail(new Error('simulated: tail connection lost'));
  }

  /** Holds every tail's feed for `ms`, then releases what piled up in one burst. */
  stallFeeds(ms: number): void {
    this.#sched.log(`FAULT tails stall for ${ms} ms`);
    for (const tail of this.#tails) tail.stall(ms);
  }

  beginOutage(mode: 'refuse' | 'hang'): void {
    this.#outage = mode;
    this.outages.push({ from: this.#sched.now, to: Number.POSITIVE_INFINITY });
    this.#sched.log(`FAULT outage begins (${mode})`);
    for (const tail of [...this.#tails]) tail.fail(new Error('simulated: store unreachable (outage)'));
  }

  endOutage(): void {
    this.#outage = undefined;
    const last = this.outages.at(-1);
    if (last !== undefined) last.to = this.#sched.now;
    this.#sched.log('FAULT outage ends');
    for (const fail of this.#hung.splice(0)) fail();
  }

  // ---- internals ----

  forget(tail: TailConnection): void {
    this.#tails.delete(tail);
  }

  /** A tail handed `seq` to its bus's feed; the first hand-over per bus is kept. */
  handedOver(owner: number, seq: number, offeredAt: number): void {
    let feed = this.feeds.get(owner);
    if (feed === undefined) this.feeds.set(owner, (feed = new Map()));
    if (!feed.has(seq)) feed.set(seq, { offeredAt, handedAt: this.#sched.now });
  }

  #retained(): StoredRecord[] {
    return this.log.slice(this.trimmedHigh);
  }

  /** A call with no fault of its own: it still completes when the scheduler says. */
  #later<T>(name: string, answer: () => T): Promise<T> {
    const call = ++this.#calls;
    return new Promise((resolve) =>
      this.#sched.schedule(this.#latency(), `${name}#${call}`, () => resolve(answer())),
    );
  }

  /** An in-process answer (see FaultFlags.instantReplies): never during an outage. */
  #instant(): boolean {
    return this.#faults.instantReplies && this.#outage === undefined && this.#rng.chance(0.3);
  }

  #latency(): number {
    return this.#rng.int(1, 20);
  }

  #appendFault(): 'ok' | 'fail' | 'timeout-applied' | 'slow-reply' {
    if (this.calm) return 'ok';
    const r = this.#rng.float();
    const f = this.#faults;
    if (f.appendFails && r < 0.08) return 'fail';
    if (f.appendTimeoutApplied && r >= 0.08 && r < 0.14) return 'timeout-applied';
    if (f.slowAppendReply && r >= 0.14 && r < 0.34) return 'slow-reply';
    return 'ok';
  }

  /** True (and the call is failed, now or when a hanging outage ends) while the store is down. */
  #unreachable(name: string, reject: (error: unknown) => void): boolean {
    if (this.#outage === undefined) return false;
    const fail = () => reject(new Error(`simulated: store unreachable (${name})`));
    if (this.#outage === 'hang') {
      this.#sched.log(`${name} hangs (outage)`);
      this.#hung.push(fail);
    } else {
      this.#sched.log(`${name} refused (outage)`);
      fail();
    }
    return true;
  }

  #apply(batch: BusEvent[], call: number): AppendResult[] {
    const inCall = new Map<string, StoredRecord>();
    const results: AppendResult[] = [];
    for (const event of batch) {
      const existing = this.#byId.get(event.id) ?? inCall.get(event.id);
      if (existing !== undefined) {
        results.push({ id: event.id, cursor: existing.cursor, duplicate: true });
        continue;
      }
      const seq = this.log.length + 1;
      const cursor = cursorOf(seq);
      const record: StoredRecord = {
        seq,
        cursor,
        event: { ...event, cursor } as StoredEvent,
        appliedAt: this.#sched.now,
        appliedOrdinal: this.#sched.tick(),
        trimmedOrdinal: undefined,
        call,
      };
      this.log.push(record);
      this.#byId.set(event.id, record);
      inCall.set(event.id, record);
      results.push({ id: event.id, cursor, duplicate: false });
    }
    this.#sched.log(
      `store.append#${call} APPLIED ${results.map((r) => `${r.id}@${r.cursor}${r.duplicate ? '(dup)' : ''}`).join(' ')}`,
    );
    for (const tail of this.#tails) tail.appended();
    return results;
  }

  #page(query: ReadQuery): ReadPage {
    const limit = query.limit ?? 100;
    if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) throw new Error(`bad limit ${limit}`);
    const backward = query.direction === 'backward';
    let truncated = false;
    let candidates = this.#retained();
    if (query.after !== undefined) {
      const after = seqOf(query.after);
      if (backward) candidates = candidates.filter((r) => r.seq < after);
      else {
        candidates = candidates.filter((r) => r.seq > after);
        truncated = after < this.trimmedHigh;
      }
    }
    const types = query.types && query.types.length > 0 ? query.types : undefined;
    const matching = candidates.filter(
      (r) =>
        (query.stream === undefined || r.event.stream === query.stream) &&
        (types === undefined || matchesAny(types, r.event.type)) &&
        (query.since === undefined || r.event.time >= query.since) &&
        (query.until === undefined || r.event.time < query.until),
    );
    if (backward) matching.reverse();
    const events = matching.slice(0, limit).map((r) => ({ ...r.event }));
    const page: ReadPage = { events };
    if (matching.length > limit) page.next = events[events.length - 1]!.cursor;
    if (truncated) page.truncated = true;
    if (backward && query.after === undefined && events.length === 0) page.head = cursorOf(this.log.length);
    return page;
  }
}
