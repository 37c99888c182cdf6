import { ClosedError, InvalidPatternError, StoreUnavailableError } from '../../errors.js';
import { CONSUMER_GROUP_LIMITS } from '../../groups/consumer-group-options.js';
import type { DeadLetter } from '../../groups/dead-letters.js';
import {
  type GroupBackend,
  type GroupBackendContext,
  type GroupMember,
  groupTypes,
  type JoinRequest,
  patternsMismatch,
} from '../../groups/group-backend.js';
import type { RedisCalls } from '../client/redis-calls.js';
import type { RedisConnection } from '../client/redis-connection.js';
import type { InvalidEntries } from '../store/invalid-entries.js';
import { newEpoch } from '../store/redis-cursor.js';
import type { RedisKeys } from '../store/redis-keys.js';
import { parseDeadLetters } from './group-replies.js';
import { JOIN, REDRIVE } from './group-scripts.js';
import { LocalGroup } from './local-group.js';
import { RedisGroupKeys } from './redis-group-keys.js';
import { RedisGroupMember } from './redis-group-member.js';

/** What the backend needs from its RedisEventStore. */
export interface RedisGroupStore {
  readonly connection: RedisConnection;
  readonly calls: RedisCalls;
  readonly keys: RedisKeys;
  /** How often members look for work other processes left: retries due, dead consumers, redrives. */
  readonly pollMs: number;
  /** Most patterns of one group (the claim script matches new types against them). */
  readonly maxGroupPatterns: number;
  /** Where entries that are not events are reported (they are acknowledged and skipped). */
  readonly invalid: InvalidEntries;
}

/** A consumer that held nothing for this long belongs to a process that is gone: JOIN deletes it. */
const STALE_CONSUMER_MS = 3_600_000;

/**
 * Consumer groups on Redis, shared by every process of the store's prefix: the Redis consumer
 * group on the store's log hands events out (XREADGROUP), keeps them pending until XACK, and a
 * member takes over what a dead one held once it has been idle for `ackTimeoutMs`
 * (XAUTOCLAIM). Retries, dead letters and redrives live in keys beside it (redis-group-keys.ts).
 *
 * Members in this process are woken by the bus for new events and by this backend for retries
 * and hand-backs here; work that other processes leave (a retry due there, a member that died,
 * a redrive) is found by a poll every `pollMs`.
 */
export class RedisGroupBackend implements GroupBackend {
  readonly #store: RedisGroupStore;
  readonly #context: GroupBackendContext;
  readonly #groups = new Map<string, LocalGroup>();
  #poll: ReturnType<typeof setInterval> | undefined;
  #closed = false;

  constructor(store: RedisGroupStore, context: GroupBackendContext) {
    this.#store = store;
    this.#context = context;
  }

  async join(request: JoinRequest): Promise<GroupMember> {
    this.#assertOpen();
    const types = groupTypes(request.types);
    const max = this.#store.maxGroupPatterns;
    if (types.length > max) {
      throw new InvalidPatternError(
        `[${types.length} patterns]`,
        `expected at most ${max} patterns in consumer group "${request.group}" (RedisEventStore maxGroupPatterns), got ${types.length}`,
      );
    }
    const keys = new RedisGroupKeys(this.#store.keys, request.group);
    await this.#create(keys, request.group, types, request.from);
    this.#assertOpen();
    let local = this.#groups.get(request.group);
    if (local === undefined) {
      local = new LocalGroup(request.group, keys, types);
      this.#groups.set(request.group, local);
    }
    const member = new RedisGroupMember(
      {
        connection: this.#store.connection,
        calls: this.#store.calls,
        clock: this.#context.clock,
        report: (error) => this.#context.report(error, types),
        reclaimEveryMs: this.#store.pollMs,
        invalid: this.#store.invalid,
        rejoin: () => this.#create(keys, request.group, types, 'start'),
        forget: (group) => {
          if (group.members.size > 0) return;
          group.stopTimer();
          this.#groups.delete(group.name);
        },
      },
      local,
      request,
    );
    local.members.add(member);
    this.#startPolling();
    return member;
  }

  async listDeadLetters(group: string): Promise<DeadLetter[]> {
    this.#assertOpen();
    const keys = new RedisGroupKeys(this.#store.keys, group);
    const { calls, connection } = this.#store;
    // Sent back to back, so pipelined: one round trip.
    const [epoch, entries] = await Promise.all([
      calls.send(connection, ['GET', keys.epoch]),
      calls.send(connection, [
        'XRANGE',
        keys.dead,
        '-',
        '+',
        'COUNT',
        String(CONSUMER_GROUP_LIMITS.maxDeadLetters),
      ]),
    ]);
    if (typeof epoch !== 'string') return [];
    return parseDeadLetters(entries, epoch, group, (id, reason, cause) =>
      this.#store.invalid.report(keys.dead, id, reason, cause),
    );
  }

  async countDeadLetters(group: string): Promise<number> {
    this.#assertOpen();
    const keys = new RedisGroupKeys(this.#store.keys, group);
    return Number(await this.#store.calls.send(this.#store.connection, ['XLEN', keys.dead]));
  }

  async redrive(group: string, ids: readonly string[] | undefined): Promise<number> {
    this.#assertOpen();
    const keys = new RedisGroupKeys(this.#store.keys, group);
    const reply = await this.#store.calls.script(
      this.#store.connection,
      REDRIVE,
      [keys.dead, keys.again],
      ids === undefined ? ['1'] : ['0', ...ids],
    );
    const count = Number(reply);
    if (count > 0) this.#groups.get(group)?.notifyAll();
    return count;
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#poll);
    for (const group of this.#groups.values()) group.stopTimer();
    this.#groups.clear();
  }

  /** Creates the group if it does not exist (atomically: concurrent joins create it once). */
  async #create(keys: RedisGroupKeys, group: string, types: string[], from: 'now' | 'start'): Promise<void> {
    const reply = await this.#store.calls.script(
      this.#store.connection,
      JOIN,
      [keys.epoch, keys.log, keys.logMark, keys.group, keys.again],
      [newEpoch(), group, JSON.stringify(types), from, String(STALE_CONSUMER_MS)],
    );
    if (!Array.isArray(reply) || reply.length !== 2) {
      throw new StoreUnavailableError('Unexpected group join reply from Redis');
    }
    if (Number(reply[0]) === 0) {
      throw patternsMismatch(group, String(reply[1]), types);
    }
  }

  #startPolling(): void {
    if (this.#poll !== undefined) return;
    this.#poll = setInterval(() => {
      for (const group of this.#groups.values()) group.notifyAll();
    }, this.#store.pollMs);
    // A safety net, not a reason to keep the process alive.
    this.#poll.unref();
  }

  #assertOpen(): void {
    if (this.#closed) throw new ClosedError('The consumer groups are closed');
  }
}
