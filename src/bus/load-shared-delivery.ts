/**
 * How the bus gets SharedDelivery, which only a bus on a store shared between processes needs
 * (a bundle of a bus on the memory store leaves it out): through a dynamic import the first
 * time, and at once after that. The module registers itself when it is evaluated, so anything
 * that loaded it before (busline/redis, an earlier bus, a test harness that must stay
 * deterministic) makes the bus synchronous. The same scheme as load-consumer-groups.ts.
 */
import type { SharedDelivery } from './shared-delivery.js';

let loaded: typeof SharedDelivery | undefined;

/** Called by shared-delivery.ts when it is evaluated. */
export function registerSharedDelivery(delivery: typeof SharedDelivery): void {
  loaded = delivery;
}

export function loadSharedDelivery(): typeof SharedDelivery | Promise<typeof SharedDelivery> {
  return loaded ?? import('./shared-delivery.js').then((module) => module.SharedDelivery);
}
