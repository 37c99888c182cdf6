import { compileGroupMatcher } from './group-matcher.js';
import type { RedisGroupKeys } from './redis-group-keys.js';
import type { RedisGroupMember } from './redis-group-member.js';

/** The members of one group in this process, and what they know of it. */
export class LocalGroup {
  readonly name: string;
  readonly keys: RedisGroupKeys;
  readonly types: readonly string[];
  /** The patterns compiled for the claim script, once per group (group-matcher.ts). */
  readonly matcher: string;
  readonly members = new Set<RedisGroupMember>();
  /** The group's pending count as of the last script that reported it. */
  pending = 0;
  /** A member here left work behind: the next claim looks for it at once (XAUTOCLAIM). */
  reclaimRequested = false;
  #dueTimer: ReturnType<typeof setTimeout> | undefined;
  #dueAt = Number.POSITIVE_INFINITY;

  constructor(name: string, keys: RedisGroupKeys, types: readonly string[]) {
    this.name = name;
    this.keys = keys;
    this.types = types;
    this.matcher = compileGroupMatcher(types);
  }

  notifyAll(): void {
    for (const member of this.members) member.notify();
  }

  /** Wakes the members when the group's next retry falls due (`ms` from now; -1: none). */
  wakeIn(ms: number): void {
    if (ms < 0) return;
    const at = Date.now() + ms;
    if (this.#dueTimer !== undefined && this.#dueAt <= at) return;
    clearTimeout(this.#dueTimer);
    this.#dueAt = at;
    // One ms late rather than early: the claim compares against Redis's clock.
    this.#dueTimer = setTimeout(() => {
      this.#dueTimer = undefined;
      this.#dueAt = Number.POSITIVE_INFINITY;
      this.notifyAll();
    }, ms + 1);
  }

  stopTimer(): void {
    clearTimeout(this.#dueTimer);
    this.#dueTimer = undefined;
    this.#dueAt = Number.POSITIVE_INFINITY;
  }
}
