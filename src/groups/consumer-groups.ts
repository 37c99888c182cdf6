import type { ErrorContext } from '../bus/options.js';
import { ClosedError, InvalidOptionError } from '../errors.js';
import { parsePatterns } from '../pattern/parse.js';
import { randomHex } from '../random-hex.js';
import type { EventStore } from '../store/event-store.js';
import type { BusTelemetry } from '../telemetry/bus-telemetry.js';
import { type ReportTelemetryError, traceCalls } from '../telemetry/traced-calls.js';
import { within } from '../within.js';
import { type Consumer, GroupConsumer } from './consumer.js';
import type { ConsumerHandler } from './consumer-group-options.js';
import { checkRedriveIds, type DeadLetters } from './dead-letters.js';
import { GROUP_BACKEND, type GroupBackend, providesGroupBackend } from './group-backend.js';
import { checkGroupName, groupsNeedAStore } from './group-name.js';
import { registerConsumerGroups } from './load-consumer-groups.js';
import { MemoryGroupBackend } from './memory-group-backend.js';
import { resolveConsumeOptions } from './resolve-consume-options.js';

export interface ConsumerGroupsOptions {
  store: EventStore | null;
  /** Deliveries run in its process scopes (see traceCalls). */
  telemetry: BusTelemetry | undefined;
  reportTelemetry: ReportTelemetryError;
  clock: () => number;
  report: (error: unknown, context: ErrorContext) => void;
  /**
   * Calls `wake` for every event of the bus matching `patterns` (an internal `on`); returns
   * the unsubscribe function. Wake-ups only say "look": events are always read from the store.
   */
  watch: (patterns: readonly string[], wake: () => void) => () => void;
  /** `bus.ready()`: with a shared store, wake-ups for other processes' events flow only once it resolved. */
  ready: () => Promise<void>;
}

/** `bus.health().groups`: one entry per group with a consumer in this bus. */
export interface GroupHealth {
  group: string;
  /** Consumers of the group in this bus. */
  consumers: number;
  /** The group's unacknowledged events: being handled, waiting for a retry or for a consumer. */
  pending: number;
  /** Events the group gave up on, waiting in its dead letters; absent when the store did not say in time. */
  deadLetters?: number;
}

/** `{ deadLetters }`, or nothing when the backend fails or takes longer than `timeoutMs` to count. */
async function countWithin(
  backend: GroupBackend | undefined,
  group: string,
  timeoutMs: number,
): Promise<{ deadLetters?: number }> {
  if (backend === undefined) return { deadLetters: 0 };
  try {
    const counted = await within(backend.countDeadLetters(group), timeoutMs);
    return counted === undefined ? {} : { deadLetters: counted.value };
  } catch {
    return {};
  }
}

/** A group's consumers in this bus, and the bus subscription that wakes them. */
interface LocalGroup {
  readonly consumers: Set<GroupConsumer>;
  readonly unwatch: () => void;
}

/**
 * `bus.consume` and `bus.deadLetters`: validates, picks the group backend, wires wake-ups
 * from the bus to the group's consumers, and closes them all when the bus closes.
 */
export class ConsumerGroups {
  readonly #options: ConsumerGroupsOptions;
  readonly #local = new Map<string, LocalGroup>();
  /** Consumers joining or running; `close()` waits for them. */
  readonly #consumers = new Set<GroupConsumer>();
  /** Drawn on the first consume, not at construction: Workers refuse random values in the global scope. */
  #instance: string | undefined;
  #backend: GroupBackend | undefined;
  #consumerSeq = 0;
  #closed = false;

  constructor(options: ConsumerGroupsOptions) {
    this.#options = options;
  }

  async consume(pattern: unknown, handler: ConsumerHandler, options: unknown): Promise<Consumer> {
    const backend = this.#backendFor('consume');
    if (typeof handler !== 'function') throw new InvalidOptionError('Expected `handler` to be a function');
    const resolved = resolveConsumeOptions(options);
    const types = parsePatterns(pattern).map((p) => p.source);
    const { group } = resolved;
    const traced = traceCalls(
      this.#options.telemetry,
      handler,
      (event, context) => ({ event, kind: 'group', patterns: types, group, deliveries: context.deliveries }),
      // The consumer dead-letters a failed delivery that was the event's last (see GroupConsumer).
      (error, _event, context) => ({
        status: 'error',
        error,
        disposition: context.deliveries >= resolved.maxDeliveries ? 'dead_letter' : 'retry',
      }),
      this.#options.reportTelemetry,
    );
    const consumer = new GroupConsumer(traced, resolved, {
      report: (error, event) =>
        this.#options.report(error, event ? { source: 'handler', patterns: types, event } : this.#at(types)),
      closed: (closed) => this.#forget(group, closed),
    });
    await this.#options.ready();
    const member = await backend.join({
      group,
      consumer: `${group}:${(this.#instance ??= randomHex(4))}:${++this.#consumerSeq}`,
      types,
      from: resolved.from,
      ackTimeoutMs: resolved.ackTimeoutMs,
      notify: () => consumer.wake(),
    });
    if (this.#closed) {
      await member.leave();
      throw new ClosedError('The bus closed before the consumer joined its group');
    }
    // Watching starts before the first claim, which reads everything after the group's
    // position: an event stored in between is either read by that claim or wakes it up.
    this.#watch(group, types).consumers.add(consumer);
    this.#consumers.add(consumer);
    consumer.start(member);
    return consumer;
  }

  deadLetters(group: string): DeadLetters {
    const name = checkGroupName(group);
    this.#backendFor('deadLetters');
    return {
      list: async () => this.#backendFor('deadLetters').listDeadLetters(name),
      redrive: async (ids?: readonly string[]) =>
        this.#backendFor('deadLetters').redrive(name, checkRedriveIds(ids)),
    };
  }

  /**
   * Each group with a consumer in this bus: its consumers here, its pending events (as the
   * last of them saw it) and its dead letters (counted by the backend).
   */
  async health(timeoutMs: number): Promise<GroupHealth[]> {
    const groups = new Map<string, GroupConsumer[]>();
    for (const consumer of this.#consumers) {
      const group = consumer.stats().group;
      const list = groups.get(group);
      if (list === undefined) groups.set(group, [consumer]);
      else list.push(consumer);
    }
    const backend = this.#backend;
    return Promise.all(
      [...groups].map(async ([group, consumers]) => ({
        group,
        consumers: consumers.length,
        pending: Math.max(...consumers.map((consumer) => consumer.stats().pending)),
        ...(await countWithin(backend, group, timeoutMs)),
      })),
    );
  }

  /** Closes every consumer (each waits up to `timeoutMs` for its in-flight handlers), then the backend. */
  async close(timeoutMs?: number): Promise<void> {
    this.#closed = true;
    await Promise.all([...this.#consumers].map((consumer) => consumer.close({ timeoutMs })));
    await this.#backend?.close();
  }

  #backendFor(method: string): GroupBackend {
    const { store } = this.#options;
    if (store === null) throw groupsNeedAStore(method);
    if (this.#closed) throw new ClosedError('The bus is closed');
    if (this.#backend === undefined) {
      const context = {
        clock: this.#options.clock,
        report: (error: unknown, patterns: readonly string[]) =>
          this.#options.report(error, this.#at(patterns)),
      };
      // The Redis store brings its own backend (XREADGROUP/XACK/XAUTOCLAIM, shared by processes);
      // every other store gets the in-process one.
      this.#backend = providesGroupBackend(store)
        ? store[GROUP_BACKEND](context)
        : new MemoryGroupBackend({ store, ...context });
    }
    return this.#backend;
  }

  #at(patterns: readonly string[]): ErrorContext {
    return { source: 'subscription', patterns };
  }

  #watch(group: string, types: readonly string[]): LocalGroup {
    let local = this.#local.get(group);
    if (local === undefined) {
      const consumers = new Set<GroupConsumer>();
      const unwatch = this.#options.watch(types, () => wakeForOneEvent(consumers));
      local = { consumers, unwatch };
      this.#local.set(group, local);
    }
    return local;
  }

  /** A closed consumer; the last one of a group in this bus stops its wake-ups. */
  #forget(group: string, consumer: GroupConsumer): void {
    this.#consumers.delete(consumer);
    const local = this.#local.get(group);
    if (local === undefined || !local.consumers.delete(consumer) || local.consumers.size > 0) return;
    this.#local.delete(group);
    local.unwatch();
  }
}

registerConsumerGroups(ConsumerGroups);

/**
 * One new event needs one consumer: wake the first idle one, in turn (it stops being idle at
 * once, so the next event of a burst wakes the next). Waking them all would make every idle consumer
 * claim, a store round trip each on Redis, for one event. When none is idle, they are all
 * claiming or full: signal them all, so none that is mid-claim goes to sleep past this event.
 */
function wakeForOneEvent(consumers: Set<GroupConsumer>): void {
  for (const consumer of consumers) {
    if (consumer.isIdle) {
      consumer.wake();
      // To the back of the line: the next quiet-time event goes to another consumer.
      consumers.delete(consumer);
      consumers.add(consumer);
      return;
    }
  }
  for (const consumer of consumers) consumer.wake();
}
