/**
 * How the bus gets the consumer groups, which it loads on first use (a bundle of a bus that
 * never uses them can leave them out): through a dynamic import the first time, and at once
 * after that. The module registers itself when it is evaluated, so anything that loaded it
 * before (an earlier bus, or a test harness that must stay deterministic: a dynamic import
 * under a module loader hook takes a real turn of the event loop) makes the bus synchronous.
 */
import type { ConsumerGroups } from './consumer-groups.js';

let loaded: typeof ConsumerGroups | undefined;

/** Called by consumer-groups.ts when it is evaluated. */
export function registerConsumerGroups(groups: typeof ConsumerGroups): void {
  loaded = groups;
}

export function loadConsumerGroups(): typeof ConsumerGroups | Promise<typeof ConsumerGroups> {
  return loaded ?? import('./consumer-groups.js').then((module) => module.ConsumerGroups);
}
