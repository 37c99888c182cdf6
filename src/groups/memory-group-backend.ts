import { BuslineError, ClosedError, StoreUnavailableError } from '../errors.js';
import type { EventStore } from '../store/event-store.js';
import type { DeadLetter } from './dead-letters.js';
import {
  type GroupBackend,
  type GroupMember,
  groupTypes,
  type JoinRequest,
  patternsMismatch,
} from './group-backend.js';
import { MemoryGroup } from './memory-group.js';

/** What the groups of one MemoryGroupBackend share. */
export interface MemoryGroupContext {
  readonly store: EventStore;
  /** The bus clock, for `deadAt`. */
  readonly clock: () => number;
  /** Reports a problem no caller is waiting for (history lost to retention). */
  readonly report: (error: unknown, patterns: readonly string[]) => void;
  readonly closed: boolean;
}

/**
 * The in-process group backend: group state lives in this bus's memory and new events are
 * read from the bus's store after each group's cursor. Consumers of one bus share a group;
 * two buses (or processes) do not, even on a shared store.
 */
export class MemoryGroupBackend implements GroupBackend {
  readonly #context: { -readonly [K in keyof MemoryGroupContext]: MemoryGroupContext[K] };
  /** Groups by name; a group being created holds the promise of its positioning. */
  readonly #groups = new Map<string, Promise<MemoryGroup>>();

  constructor(options: Omit<MemoryGroupContext, 'closed'>) {
    this.#context = { ...options, closed: false };
  }

  async join(request: JoinRequest): Promise<GroupMember> {
    this.#assertOpen();
    const group = await this.#groupFor(request);
    this.#assertOpen();
    const types = groupTypes(request.types);
    if (types.join('\n') !== group.types.join('\n')) {
      throw patternsMismatch(group.name, JSON.stringify(group.types), types);
    }
    return group.join(request);
  }

  async listDeadLetters(name: string): Promise<DeadLetter[]> {
    this.#assertOpen();
    const group = await this.#groups.get(name)?.catch(() => undefined);
    return group?.dead.list() ?? [];
  }

  async countDeadLetters(name: string): Promise<number> {
    this.#assertOpen();
    const group = await this.#groups.get(name)?.catch(() => undefined);
    return group?.dead.size ?? 0;
  }

  async redrive(name: string, ids: readonly string[] | undefined): Promise<number> {
    this.#assertOpen();
    const group = await this.#groups.get(name)?.catch(() => undefined);
    return group?.redrive(ids) ?? 0;
  }

  async close(): Promise<void> {
    this.#context.closed = true;
    for (const pending of this.#groups.values()) {
      const group = await pending.catch(() => undefined);
      group?.stopTimers();
    }
  }

  /** The existing group, or a new one; the map holds it before the first await, so concurrent joins share it. */
  #groupFor(request: JoinRequest): Promise<MemoryGroup> {
    const existing = this.#groups.get(request.group);
    if (existing !== undefined) return existing;
    const group = new MemoryGroup(request.group, groupTypes(request.types), this.#context);
    const created = group.position(request.from).then(
      () => group,
      (error: unknown) => {
        // A group that could not be positioned does not exist: the next join tries again.
        this.#groups.delete(request.group);
        throw error instanceof BuslineError
          ? error
          : new StoreUnavailableError(
              `Consumer group "${request.group}" could not be created: the event store could not be read`,
              { cause: error },
            );
      },
    );
    this.#groups.set(request.group, created);
    return created;
  }

  #assertOpen(): void {
    if (this.#context.closed) throw new ClosedError('The consumer groups are closed');
  }
}
