import { ClosedError, TimeoutError } from '../errors.js';
import type { StoredEvent } from '../event.js';
import type { ConsumerHandler } from './consumer-group-options.js';
import { deliveryError } from './dead-letters.js';
import { DeliveryContext } from './delivery-context.js';
import type { Delivery, GroupMember } from './group-backend.js';
import { LazyAbort } from './lazy-abort.js';
import { checkCloseTimeout, type ResolvedConsumeOptions, retryDelay } from './resolve-consume-options.js';

/** `consumer.stats()`. See docs/consumer-groups.md. */
export interface ConsumerStats {
  group: string;
  /** Handler calls of this consumer running now (at most `concurrency`). */
  inFlight: number;
  /** Deliveries this consumer started, redeliveries included. */
  delivered: number;
  /** Deliveries whose handler resolved. */
  acked: number;
  /** Failed deliveries (throw, reject, ackTimeoutMs) handed back for a later redelivery. */
  retried: number;
  /** Failed deliveries that were the event's last (`maxDeliveries`): it went to the dead letters. */
  deadLettered: number;
  /** The group's unacknowledged events: being handled, waiting for a retry or for a consumer. */
  pending: number;
}

export interface ConsumerCloseOptions {
  /**
   * Longest wait for in-flight handlers; those still running then are abandoned: their events
   * stay pending for the other consumers. @default no limit beyond each handler's ackTimeoutMs
   */
  timeoutMs?: number;
}

/** What `bus.consume` resolves with. */
export interface Consumer {
  /** Stops fetching, waits for in-flight handlers, leaves unacknowledged events to the group. Idempotent. */
  close(options?: ConsumerCloseOptions): Promise<void>;
  stats(): ConsumerStats;
}

export interface ConsumerHooks {
  /** A failed handler or a backend error; `event` when it happened delivering one. */
  report(error: unknown, event: StoredEvent | undefined): void;
  closed(consumer: GroupConsumer): void;
}

type Outcome = { failed: false } | { failed: true; error: unknown };

/** A handler call in flight: what stops its ack timer, and what aborts its `signal`. */
interface Running {
  readonly cancelTimer: () => void;
  readonly abort: LazyAbort;
}

/**
 * The consumer loop: claims as many deliveries as it has free slots (never more, so at most
 * `concurrency` events are held), runs the handler on each, then acks, retries with backoff
 * or dead-letters. It sleeps until woken (a new event, a retry due, a free slot): no polling.
 */
export class GroupConsumer implements Consumer {
  readonly #handler: ConsumerHandler;
  readonly #options: ResolvedConsumeOptions;
  readonly #hooks: ConsumerHooks;
  #member: GroupMember | undefined;
  /** Running deliveries; an abandoned one (the consumer closed) settles nothing. */
  readonly #running = new Map<Delivery, Running>();
  /** Outcomes of finished handlers being recorded (ack, retry, dead letter). */
  readonly #recording = new Set<Promise<void>>();
  #delivered = 0;
  #acked = 0;
  #retried = 0;
  #deadLettered = 0;
  /** Set by every wake-up; a claim that found nothing re-checks it before sleeping, so none is lost. */
  #signalled = false;
  #wakeUp: (() => void) | undefined;
  #whenIdle: (() => void) | undefined;
  #stopped = false;
  #loop: Promise<void> = Promise.resolve();
  #closing: Promise<void> | undefined;

  constructor(handler: ConsumerHandler, options: ResolvedConsumeOptions, hooks: ConsumerHooks) {
    this.#handler = handler;
    this.#options = options;
    this.#hooks = hooks;
  }

  start(member: GroupMember): void {
    this.#member = member;
    this.#loop = this.#run(member);
  }

  /** Asleep with a free slot: a wake-up would make it claim at once. */
  get isIdle(): boolean {
    return this.#wakeUp !== undefined && !this.#stopped && this.#running.size < this.#options.concurrency;
  }

  /** Work may be available: new events, a retry that fell due, events another consumer left. */
  wake(): void {
    this.#signalled = true;
    this.#kick();
  }

  close(options?: ConsumerCloseOptions): Promise<void> {
    if (this.#closing === undefined) {
      let timeoutMs: number | undefined;
      try {
        timeoutMs = checkCloseTimeout(options?.timeoutMs);
      } catch (error) {
        return Promise.reject(error);
      }
      this.#closing = this.#shutdown(timeoutMs);
    }
    return this.#closing;
  }

  stats(): ConsumerStats {
    return {
      group: this.#options.group,
      inFlight: this.#running.size,
      delivered: this.#delivered,
      acked: this.#acked,
      retried: this.#retried,
      deadLettered: this.#deadLettered,
      pending: this.#member?.pending() ?? 0,
    };
  }

  async #run(member: GroupMember): Promise<void> {
    const { concurrency } = this.#options;
    while (!this.#stopped) {
      const room = concurrency - this.#running.size;
      if (room <= 0) {
        await this.#sleep();
        continue;
      }
      this.#signalled = false;
      let batch: Delivery[];
      try {
        batch = await member.claim(room);
      } catch (error) {
        if (this.#stopped) break;
        this.#hooks.report(error, undefined);
        // The store failed: try again after the backoff, or sooner if woken.
        await this.#sleep(this.#options.retryDelayMs);
        continue;
      }
      // Claimed while closing: `leave()` hands them back to the group.
      if (this.#stopped) break;
      for (const delivery of batch) this.#process(member, delivery);
      if (batch.length < room && !this.#signalled) await this.#sleep();
    }
  }

  #process(member: GroupMember, delivery: Delivery): void {
    this.#delivered++;
    void this.#call(delivery).then((outcome) => {
      const running = this.#running.get(delivery);
      if (running === undefined) return; // abandoned at close: the group has it back
      // Failed after close() aborted its signal: most likely because of it. Nothing is recorded;
      // leaving the group hands the event back for an immediate redelivery (count kept).
      const abandon = outcome.failed && this.#stopped && running.abort.aborted;
      if (abandon) {
        this.#running.delete(delivery);
        if (this.#running.size === 0) this.#whenIdle?.();
        if (!isAbort(outcome.error, running.abort.reason)) this.#hooks.report(outcome.error, delivery.event);
        return;
      }
      // The slot frees as soon as the handler is done, while the outcome is recorded: a backend
      // may then send that record along with the next claim (one round trip, not two).
      // `close()` waits for these records before it leaves the group.
      const recorded = this.#settle(member, delivery, outcome).catch((error: unknown) => {
        // The backend failed to record the outcome: the event stays pending and comes back.
        this.#hooks.report(error, delivery.event);
      });
      this.#recording.add(recorded);
      void recorded.then(() => this.#recording.delete(recorded));
      const wasFull = this.#running.size >= this.#options.concurrency;
      this.#running.delete(delivery);
      if (wasFull) this.#kick();
      if (this.#running.size === 0) this.#whenIdle?.();
    });
  }

  async #settle(member: GroupMember, delivery: Delivery, outcome: Outcome): Promise<void> {
    if (!outcome.failed) {
      await member.ack(delivery);
      this.#acked++;
      return;
    }
    this.#hooks.report(outcome.error, delivery.event);
    const error = deliveryError(outcome.error);
    if (delivery.deliveries >= this.#options.maxDeliveries) {
      await member.deadLetter(delivery, error);
      this.#deadLettered++;
    } else {
      await member.retry(delivery, error, retryDelay(this.#options, delivery.deliveries));
      this.#retried++;
    }
  }

  /**
   * Runs the handler, racing `ackTimeoutMs`; a result after the timeout is ignored. The timeout
   * aborts the call's signal, so a handler that listens can stop the work it would lose.
   */
  #call(delivery: Delivery): Promise<Outcome> {
    const { ackTimeoutMs, group } = this.#options;
    return new Promise((resolve) => {
      const abort = new LazyAbort();
      const timer = setTimeout(() => {
        const error = new TimeoutError(`The handler did not settle within ackTimeoutMs (${ackTimeoutMs} ms)`);
        resolve({ failed: true, error });
        abort.abort(error);
      }, ackTimeoutMs);
      this.#running.set(delivery, { cancelTimer: () => clearTimeout(timer), abort });
      const done = (outcome: Outcome): void => {
        clearTimeout(timer);
        resolve(outcome);
      };
      const context = new DeliveryContext(delivery.deliveries, group, abort);
      let result: unknown;
      try {
        result = this.#handler(delivery.event, context);
      } catch (error) {
        done({ failed: true, error });
        return;
      }
      Promise.resolve(result).then(
        () => done({ failed: false }),
        (error: unknown) => done({ failed: true, error }),
      );
    });
  }

  async #shutdown(timeoutMs: number | undefined): Promise<void> {
    this.#stopped = true;
    this.#kick();
    // Handlers in flight may stop early; the close still waits for them (up to timeoutMs).
    const reason = new ClosedError(`Consumer of group "${this.#options.group}" closed`);
    for (const { abort } of this.#running.values()) abort.abort(reason);
    await this.#loop;
    if (this.#running.size > 0) await this.#idle(timeoutMs);
    // Handlers still running are abandoned: their events go back to the group.
    for (const { cancelTimer } of this.#running.values()) cancelTimer();
    this.#running.clear();
    // Finished ones are recorded first, or leaving would hand back events already handled.
    await Promise.all(this.#recording);
    try {
      await this.#member?.leave();
    } catch (error) {
      this.#hooks.report(error, undefined);
    }
    this.#hooks.closed(this);
  }

  #idle(timeoutMs: number | undefined): Promise<void> {
    return new Promise((resolve) => {
      const timer = timeoutMs === undefined ? undefined : setTimeout(done, timeoutMs);
      this.#whenIdle = done;
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
    });
  }

  #sleep(ms?: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = ms === undefined ? undefined : setTimeout(() => this.#kick(), ms);
      this.#wakeUp = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  #kick(): void {
    const wakeUp = this.#wakeUp;
    this.#wakeUp = undefined;
    wakeUp?.();
  }
}

/** The handler gave up because its signal aborted: the abort's own reason, or an AbortError. */
function isAbort(error: unknown, reason: unknown): boolean {
  return error === reason || (error instanceof Error && error.name === 'AbortError');
}
