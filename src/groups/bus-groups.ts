/**
 * A bus's consumer groups (`bus.consume`, `bus.deadLetters`), made on first use with their code
 * loaded then too (see load-consumer-groups.ts): a bundle of a bus that never uses groups can
 * leave that code out. This part stays small: it holds the groups once made, and makes the
 * checks `deadLetters` owes its caller at once. A failed load (a chunk's request failed) is a
 * ModuleLoadError for the call that needed it, and is not kept: the next call loads again.
 */
import { moduleLoadFailed } from '../errors.js';
import type { ConsumerGroups, ConsumerGroupsOptions, GroupHealth } from './consumer-groups.js';
import type { DeadLetters } from './dead-letters.js';
import { checkGroupName, groupsNeedAStore } from './group-name.js';
import { loadConsumerGroups } from './load-consumer-groups.js';

export class BusGroups {
  readonly #options: ConsumerGroupsOptions;
  #groups: ConsumerGroups | undefined;
  /** The groups while their code loads, the first time any bus uses them. */
  #loading: Promise<ConsumerGroups> | undefined;

  constructor(options: ConsumerGroupsOptions) {
    this.#options = options;
  }

  /** The groups: at once once made (no extra turn), a promise only while their code loads. */
  get(): ConsumerGroups | Promise<ConsumerGroups> {
    if (this.#groups !== undefined) return this.#groups;
    const loading = loadConsumerGroups();
    if (!(loading instanceof Promise)) return this.#make(loading);
    this.#loading ??= loading.then(
      (Groups) => this.#groups ?? this.#make(Groups),
      (error: unknown) => {
        this.#loading = undefined;
        throw moduleLoadFailed('consumer-group', error, 'Nothing was done; the next call loads it again');
      },
    );
    return this.#loading;
  }

  /** `bus.deadLetters(group)`: what can be checked now throws now; the list lives with the groups. */
  deadLetters(group: string): DeadLetters {
    const name = checkGroupName(group);
    if (this.#options.store === null) throw groupsNeedAStore('deadLetters');
    const withLetters = <T>(use: (letters: DeadLetters) => Promise<T>): Promise<T> => {
      const groups = this.get();
      return groups instanceof Promise
        ? groups.then((g) => use(g.deadLetters(name)))
        : use(groups.deadLetters(name));
    };
    return {
      list: () => withLetters((letters) => letters.list()),
      redrive: (ids?: readonly string[]) => withLetters((letters) => letters.redrive(ids)),
    };
  }

  /** Each group's health; none before the groups were made. */
  health(timeoutMs: number): Promise<GroupHealth[]> {
    return this.#groups === undefined ? Promise.resolve([]) : this.#groups.health(timeoutMs);
  }

  /** Closes the groups made or loading (their consumers wait up to `timeoutMs`); undefined if there are none. */
  close(timeoutMs: number): Promise<void> | undefined {
    if (this.#groups !== undefined) return this.#groups.close(timeoutMs);
    // A load that failed made no groups: nothing to close.
    return this.#loading?.then(
      (groups) => groups.close(timeoutMs),
      () => undefined,
    );
  }

  #make(Groups: typeof ConsumerGroups): ConsumerGroups {
    this.#groups = new Groups(this.#options);
    return this.#groups;
  }
}
