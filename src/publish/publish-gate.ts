import type { Deduplicator } from '../dedup/deduplicator.js';
import { RecentIds } from '../dedup/recent-ids.js';
import { BuslineError, RateLimitedError, StoreUnavailableError } from '../errors.js';
import type { BusEvent } from '../event.js';
import { RateLimiter, type RateLimiterLike } from '../limit/rate-limiter.js';
import type { EventStore } from '../store/event-store.js';
import { ClosableWaits } from './closable-waits.js';
import { IdLocks } from './id-locks.js';

/** What the gate decided for one event. */
export type Admission = 'admit' | 'duplicate' | 'rate_limited';

export interface GateOptions {
  dedup: Deduplicator | null;
  /** How many recent ids to keep for exact confirmation when the store has no `has`. */
  recentIds: number;
  store: EventStore | null;
  limiter: RateLimiterLike | null;
  limitKey: (event: BusEvent) => string;
  /** The deduplicator, and the limiter, read the bus's clock: `admit` may pass them the time the bus read. */
  dedupOnBusClock: boolean;
  limiterOnBusClock: boolean;
  /** Called for every event the limiter refuses by throwing (`onLimit: 'throw'`, or `delay` past its bound). */
  limited(): void;
}

/**
 * Decides, before anything is stored, whether an event is a duplicate or over its rate.
 *
 * A bloom positive is only a hint: it is confirmed with `store.has(id)` when the store has
 * it, else against the last `recentIds` ids, so a false positive never drops a new event.
 * A duplicate costs no rate-limit token.
 *
 * An id counts as seen only once its event was stored (without a store: delivered): the bus
 * calls `remember` then. A bloom mark made earlier is only a hint, confirmed exactly before
 * anything is dropped, so a publish that failed (append error, rate limit, abort) can be
 * retried with the same id. Concurrent publishes of one id: one whose admission waits (a `has`
 * answer, an async or `delay` limiter) holds its id's lock (IdLocks) until the bus calls
 * `release`; the others wait for the lock and are judged after, so the id is delivered once.
 */
export class PublishGate {
  readonly #options: GateOptions;
  readonly #recent: RecentIds | null;
  /** The limiter, when it is a RateLimiter on the bus's clock (it then takes the bus's `now`). */
  readonly #localLimiter: RateLimiter | null;
  /** Given ids whose publish waits between its check and its outcome: another publish of one waits for it. */
  readonly #locks = new IdLocks();
  /** Waits to be admitted (a `delay` rate limit, another publish's id lock): `close` ends them. */
  readonly #waits = new ClosableWaits();

  constructor(options: GateOptions) {
    this.#options = options;
    this.#localLimiter =
      options.limiterOnBusClock && options.limiter instanceof RateLimiter ? options.limiter : null;
    const exactInStore = typeof options.store?.has === 'function';
    this.#recent = options.dedup !== null && !exactInStore ? new RecentIds(options.recentIds) : null;
  }

  /** True when no check is configured: the bus skips the gate entirely. */
  get isOpen(): boolean {
    return this.#options.dedup === null && this.#options.limiter === null;
  }

  /**
   * @param batchIds ids admitted earlier in the same `publishBatch` (a duplicate inside one batch)
   * @param now the bus clock's time, when the bus has just read it (components on that clock then skip their read)
   * @param generated the bus made the id just now (the input had none): it cannot have been seen
   * @param owner who holds the id's lock while the admission waits (the publish call; `release` with the same)
   * @throws RateLimitedError when the limiter refuses and `onLimit` is `'throw'`
   */
  admit(
    event: BusEvent,
    batchIds?: Set<string>,
    now?: number,
    generated = false,
    signal?: AbortSignal,
    owner: object = event,
  ): Admission | Promise<Admission> {
    if (!generated && this.#locks.size > 0 && this.#locks.isHeldByOther(event.id, owner)) {
      // Another publish of this id is under way: wait for its outcome (or the signal), then judge this one.
      return this.#acquire(event.id, owner, signal)!.then(() =>
        this.#judge(event, batchIds, undefined, signal),
      );
    }
    const verdict = this.#judge(event, batchIds, now, signal, generated);
    // Waiting from here on: hold the id until the bus has stored it or given up (`release`).
    if (verdict instanceof Promise && !generated) this.#locks.acquire(event.id, owner);
    return verdict;
  }

  /**
   * Holds `id` for `owner` before its admission: at once (undefined) if it is free, else once
   * the publish holding it is done. A batch without a store holds all its ids this way.
   */
  hold(id: string, owner: object, signal?: AbortSignal): Promise<void> | undefined {
    return this.#acquire(id, owner, signal);
  }

  /** Takes `id`'s lock for `owner`; a wait for it ends on `signal` or when the bus closes. */
  #acquire(id: string, owner: object, signal: AbortSignal | undefined): Promise<void> | undefined {
    if (!this.#locks.isHeldByOther(id, owner)) return this.#locks.acquire(id, owner);
    const wait = this.#waits.start(signal);
    return this.#locks.acquire(id, owner, wait.signal)!.finally(wait.dispose);
  }

  /**
   * Ends `owner`'s hold of `id` (call it once the publish stored the event, was refused, or
   * failed, whenever `admit` returned a promise or `hold` was called).
   */
  release(id: string, owner: object): void {
    if (this.#locks.size > 0) this.#locks.release(id, owner);
  }

  #judge(
    event: BusEvent,
    batchIds: Set<string> | undefined,
    now: number | undefined,
    signal: AbortSignal | undefined,
    generated = false,
  ): Admission | Promise<Admission> {
    if (batchIds?.has(event.id)) return 'duplicate';
    const { dedup, limiter } = this.#options;
    const dedupNow = this.#options.dedupOnBusClock ? now : undefined;
    let maybeSeen = false;
    if (dedup !== null) {
      // A fresh id is only remembered (a re-send of the event with it is then caught): checking it
      // could only yield a bloom false positive, and confirming that costs a store round trip
      // (`has`) — on Redis about 1 % of events paid one before their append.
      // With a limiter the id is marked only once admitted; without one, check and mark in one hash.
      if (generated) {
        if (limiter === null) dedup.markSeen(event.id, dedupNow);
      } else
        maybeSeen =
          (limiter === null
            ? dedup.checkAndMark(event.id, dedupNow)
            : dedup.isDuplicate(event.id, dedupNow)) ||
          // This publish waited for another of its id: whether that one got through is asked
          // exactly, however long the wait was (the bloom may have forgotten the id meanwhile).
          (this.#locks.size > 0 && this.#locks.holderWaited(event.id));
    }
    if (!maybeSeen) return this.#limit(event, batchIds, now, signal);
    const confirmed = this.#confirm(event.id);
    if (confirmed instanceof Promise) {
      // Time has passed by the answer: the components read their clocks again.
      return confirmed.then((seen) => (seen ? 'duplicate' : this.#limit(event, batchIds, undefined, signal)));
    }
    return confirmed ? 'duplicate' : this.#limit(event, batchIds, now, signal);
  }

  /**
   * The bus closed: a publish still waiting to be admitted (for a `delay` rate limit, or behind
   * another publish of its id) rejects with `reason` and publishes nothing; so does a later wait.
   */
  close(reason: Error): void {
    this.#waits.close(reason);
  }

  /** The event with this id was stored (without a store: delivered): from now on it is a duplicate. */
  remember(id: string): void {
    this.#recent?.add(id);
  }

  #confirm(id: string): boolean | Promise<boolean> {
    const { store } = this.#options;
    if (store?.has) {
      return Promise.resolve()
        .then(() => store.has!(id))
        .then(Boolean, (error: unknown) => {
          if (error instanceof BuslineError) throw error;
          throw new StoreUnavailableError(
            `The event store could not say whether id "${id}" was published before; nothing was published`,
            { cause: error },
          );
        });
    }
    return this.#recent!.has(id);
  }

  #limit(
    event: BusEvent,
    batchIds: Set<string> | undefined,
    now: number | undefined,
    signal: AbortSignal | undefined,
  ): Admission | Promise<Admission> {
    const { limiter } = this.#options;
    if (limiter === null) return this.#admitted(event, batchIds, now);
    const key = this.#options.limitKey(event);
    if (this.#localLimiter !== null && now !== undefined)
      return this.#afterTake(this.#localLimiter.tryTake(key, 1, now), event, batchIds, now, signal);
    const taken = limiter.tryTake(key);
    if (taken instanceof Promise)
      return taken.then((ok) => this.#afterTake(ok, event, batchIds, undefined, signal));
    return this.#afterTake(taken, event, batchIds, now, signal);
  }

  #afterTake(
    taken: boolean,
    event: BusEvent,
    batchIds: Set<string> | undefined,
    now: number | undefined,
    signal: AbortSignal | undefined,
  ): Admission | Promise<Admission> {
    if (taken) return this.#admitted(event, batchIds, now);
    const limiter = this.#options.limiter!;
    switch (limiter.onLimit) {
      case 'drop':
        return 'rate_limited';
      case 'throw':
        this.#options.limited();
        throw new RateLimitedError(
          `Rate limit of ${limiter.rate} per ${limiter.intervalMs} ms reached for key "${this.#options.limitKey(event)}"`,
        );
      case 'delay': {
        const wait = this.#waits.start(signal);
        return limiter.take(this.#options.limitKey(event), 1, wait.signal).then(
          () => {
            wait.dispose();
            return this.#admitted(event, batchIds, undefined);
          },
          (error: unknown) => {
            wait.dispose();
            if (error instanceof RateLimitedError) this.#options.limited();
            throw error;
          },
        );
      }
    }
  }

  #admitted(event: BusEvent, batchIds: Set<string> | undefined, now: number | undefined): Admission {
    const { dedup, limiter } = this.#options;
    if (dedup !== null && limiter !== null)
      dedup.markSeen(event.id, this.#options.dedupOnBusClock ? now : undefined);
    batchIds?.add(event.id);
    return 'admit';
  }
}
