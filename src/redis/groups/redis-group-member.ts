import { HistoryTruncatedError, StoreUnavailableError } from '../../errors.js';
import { CONSUMER_GROUP_LIMITS } from '../../groups/consumer-group-options.js';
import { capDeliveryError, type DeliveryError } from '../../groups/dead-letters.js';
import type { Delivery, GroupMember, JoinRequest } from '../../groups/group-backend.js';
import type { RedisCalls } from '../client/redis-calls.js';
import type { RedisConnection } from '../client/redis-connection.js';
import type { InvalidEntries } from '../store/invalid-entries.js';
import {
  type ClaimReply,
  type InvalidDelivery,
  parseClaimReply,
  parseSettleReply,
  type RedisDelivery,
} from './group-replies.js';
import { CLAIM, LEAVE, SETTLE } from './group-scripts.js';
import type { LocalGroup } from './local-group.js';

/**
 * Log entries one claim call looks at, at most, for events of the group's types: about 10 µs
 * each inside Redis (read into the PEL, converted to Lua, acknowledged when not wanted), so a
 * claim over a stretch of unwanted events blocks Redis for about 10 ms, not 25+ (it was 2,000).
 */
const SCAN_BUDGET = 1000;
/**
 * Trie node visits one claim call spends on matching new event types, at most (group-lua.ts,
 * MATCHER; reads are sized to what is left of it). Typical patterns cost a few visits per new
 * type; pathological ones (hundreds of overlapping `*` / `**` paths) up to thousands.
 */
const MATCH_BUDGET = 20_000;
/** Most deliveries one settle call records. */
const SETTLE_BATCH = 256;
/** The consumer that parks entries a member handed back on leaving, until another member takes them. */
const PARKING_CONSUMER = 'busline:left';
/** Idle time given to parked entries: beyond any `ackTimeoutMs`, so the next XAUTOCLAIM takes them. */
const PARKED_IDLE_MS = CONSUMER_GROUP_LIMITS.maxTimerMs + 1;

export interface MemberContext {
  readonly connection: RedisConnection;
  readonly calls: RedisCalls;
  readonly clock: () => number;
  readonly report: (error: unknown) => void;
  /** How often a member looks for entries of dead consumers (XAUTOCLAIM), besides when asked to. */
  readonly reclaimEveryMs: number;
  /** Recreates the group after Redis lost it, from the oldest retained event. */
  readonly rejoin: () => Promise<void>;
  /** The member left: drop the local group when it was the last. */
  readonly forget: (group: LocalGroup) => void;
  /** Where handed-out entries that are not events are reported. */
  readonly invalid: InvalidEntries;
}

/** One consumer of a Redis group: its name is the XREADGROUP consumer name. */
export class RedisGroupMember implements GroupMember {
  readonly #context: MemberContext;
  readonly #group: LocalGroup;
  readonly #consumer: string;
  readonly #ackTimeoutMs: number;
  readonly notify: () => void;
  #left = false;
  #lastReclaim = Number.NEGATIVE_INFINITY;
  /** Settles waiting for the next flush: those finished in one turn of the event loop go together. */
  #settles: PendingSettle[] = [];
  #flushScheduled = false;

  constructor(context: MemberContext, group: LocalGroup, request: JoinRequest) {
    this.#context = context;
    this.#group = group;
    this.#consumer = request.consumer;
    this.#ackTimeoutMs = request.ackTimeoutMs;
    this.notify = request.notify;
  }

  async claim(max: number): Promise<Delivery[]> {
    for (let rejoined = false; !this.#left; ) {
      const reply = await this.#claimOnce(max);
      if (!reply.found) {
        if (rejoined) throw new StoreUnavailableError(`Consumer group "${this.#group.name}" vanished again`);
        rejoined = true;
        await this.#context.rejoin();
        this.#context.report(
          new HistoryTruncatedError(
            `Consumer group "${this.#group.name}" was lost by Redis (it restarted empty, or its keys were deleted); it was recreated at the oldest retained event`,
          ),
        );
        continue;
      }
      this.#group.pending = reply.pending;
      this.#group.wakeIn(reply.nextDueMs);
      this.#reportLosses(reply);
      this.#dropInvalid(reply.invalid);
      // After entries that were not events, claim again: events may follow them (and the acks ride along).
      if (reply.deliveries.length > 0 || (!reply.more && reply.invalid.length === 0)) return reply.deliveries;
    }
    return [];
  }

  ack(delivery: Delivery): Promise<void> {
    return this.#settle(delivery, 'ack', []);
  }

  retry(delivery: Delivery, _error: DeliveryError, delayMs: number): Promise<void> {
    return this.#settle(delivery, 'retry', [String(delayMs)]);
  }

  deadLetter(delivery: Delivery, error: DeliveryError): Promise<void> {
    const { name, message } = capDeliveryError(error);
    return this.#settle(delivery, 'dead', [name, message, String(this.#context.clock())]);
  }

  pending(): number {
    return this.#group.pending;
  }

  async leave(): Promise<void> {
    if (this.#left) return;
    this.#left = true;
    const { keys } = this.#group;
    this.#group.members.delete(this);
    this.#context.forget(this.#group);
    const released = await this.#context.calls.script(
      this.#context.connection,
      LEAVE,
      [keys.log, keys.again],
      [this.#group.name, this.#consumer, PARKING_CONSUMER, String(PARKED_IDLE_MS)],
    );
    if (Number(released) > 0) {
      this.#group.reclaimRequested = true;
      this.#group.notifyAll();
    }
  }

  /** One claim; settles queued by then ride along (applied first), saving their own round trip. */
  async #claimOnce(max: number): Promise<ClaimReply> {
    const { keys } = this.#group;
    const settles = this.#settles.splice(0, SETTLE_BATCH);
    try {
      const reply = parseClaimReply(
        await this.#context.calls.script(
          this.#context.connection,
          CLAIM,
          [keys.epoch, keys.log, keys.logMark, keys.group, keys.again, keys.delayed, keys.dead],
          [
            this.#group.name,
            this.#consumer,
            String(max),
            String(this.#ackTimeoutMs),
            String(SCAN_BUDGET),
            this.#reclaimDue() ? '1' : '0',
            String(CONSUMER_GROUP_LIMITS.maxDeadLetters),
            this.#group.matcher,
            String(MATCH_BUDGET),
          ].concat(settleArgs(settles)),
        ),
      );
      this.#settled(settles, reply.settled);
      return reply;
    } catch (error) {
      // The hash survived but the Redis group did not (XGROUP DESTROY, a partial restore): the
      // settles found nothing to settle.
      if (isNoGroup(error)) {
        this.#settled(settles, []);
        return { found: false, settled: [] };
      }
      for (const settle of settles) settle.reject(error);
      throw error;
    }
  }

  /** Queues a settle; the script ignores a delivery that is no longer this member's. */
  #settle(delivery: Delivery, op: 'ack' | 'retry' | 'dead', extra: string[]): Promise<void> {
    if (!isRedisDelivery(delivery)) return Promise.resolve();
    const args: string[] = [
      op,
      delivery.source,
      delivery.entryId,
      String(delivery.pelCount),
      String(delivery.deliveries),
    ];
    if (op !== 'ack') args.push(delivery.packed, delivery.logId, ...extra);
    return this.#queue(args, op === 'retry' && extra[0] === '0');
  }

  #queue(args: string[], redeliverNow: boolean): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#settles.push({ args, redeliverNow, resolve, reject });
      if (this.#flushScheduled) return;
      this.#flushScheduled = true;
      setImmediate(() => void this.#flush());
    });
  }

  /**
   * Entries handed out that are not events (something else wrote them under the prefix): each
   * is reported once and acknowledged, so the group goes on after it and never hands it out again.
   */
  #dropInvalid(invalid: readonly InvalidDelivery[]): void {
    const { keys } = this.#group;
    for (const entry of invalid) {
      const key = entry.source === 'l' ? keys.log : keys.again;
      this.#context.invalid.report(key, entry.entryId, entry.reason, entry.cause);
      const args = ['ack', entry.source, entry.entryId, String(entry.pelCount), String(entry.deliveries)];
      // Not acknowledged (Redis failed): it stays pending, and comes back to be dropped again.
      this.#queue(args, false).catch(() => {});
    }
  }

  async #flush(): Promise<void> {
    this.#flushScheduled = false;
    const batch = this.#settles.splice(0, SETTLE_BATCH);
    if (batch.length === 0) return; // a claim took them along
    if (this.#settles.length > 0) {
      this.#flushScheduled = true;
      setImmediate(() => void this.#flush());
    }
    const { keys } = this.#group;
    try {
      const reply = parseSettleReply(
        await this.#context.calls.script(
          this.#context.connection,
          SETTLE,
          [keys.log, keys.again, keys.delayed, keys.dead],
          [this.#group.name, this.#consumer, String(CONSUMER_GROUP_LIMITS.maxDeadLetters)].concat(
            settleArgs(batch),
          ),
        ),
        batch.length,
      );
      this.#group.pending = reply.pending;
      this.#group.wakeIn(reply.nextDueMs);
      this.#settled(batch, reply.settled);
    } catch (error) {
      for (const s of batch) s.reject(error);
    }
  }

  /** Resolves settles Redis has answered; a retry without delay wakes the members to claim it. */
  #settled(batch: readonly PendingSettle[], flags: readonly boolean[]): void {
    if (batch.some((settle, i) => settle.redeliverNow && flags[i])) this.#group.notifyAll();
    for (const settle of batch) settle.resolve();
  }

  /** Whether this claim should take over entries of dead consumers: every `reclaimEveryMs`, or when asked. */
  #reclaimDue(): boolean {
    const now = Date.now();
    if (!this.#group.reclaimRequested && now - this.#lastReclaim < this.#context.reclaimEveryMs) return false;
    this.#group.reclaimRequested = false;
    this.#lastReclaim = now;
    return true;
  }

  #reportLosses(reply: Extract<ClaimReply, { found: true }>): void {
    const name = this.#group.name;
    if (reply.truncatedAfter !== undefined) {
      this.#context.report(
        new HistoryTruncatedError(
          `Consumer group "${name}": events after Redis id ${reply.truncatedAfter} were removed by retention before the group read them; it resumes at the oldest retained event`,
        ),
      );
    }
    if (reply.lost > 0) {
      this.#context.report(
        new HistoryTruncatedError(
          `Consumer group "${name}": ${reply.lost} unacknowledged event(s) were removed by retention before they could be redelivered`,
        ),
      );
    }
  }
}

interface PendingSettle {
  readonly args: string[];
  /** A retry without delay: the members should claim it at once. */
  readonly redeliverNow: boolean;
  resolve(): void;
  reject(error: unknown): void;
}

/**
 * The settles' arguments in one array. A loop, not `flatMap`: Node 20's flatMap costs about
 * 90 ns per element, some 14 µs for the 160 arguments of a claim carrying 32 acks (about 0.45 µs
 * of a consumer's CPU per event).
 */
function settleArgs(settles: readonly PendingSettle[]): string[] {
  const args: string[] = [];
  for (const settle of settles) for (const arg of settle.args) args.push(arg);
  return args;
}

function isRedisDelivery(delivery: Delivery): delivery is RedisDelivery {
  return typeof (delivery as Partial<RedisDelivery>).entryId === 'string';
}

function isNoGroup(error: unknown): boolean {
  const cause = error instanceof StoreUnavailableError ? error.cause : error;
  return cause instanceof Error && cause.message.includes('NOGROUP');
}
