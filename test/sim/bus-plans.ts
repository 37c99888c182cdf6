import type { SimConfig } from './flags.js';
import type { BusRecord, LimiterPlan, StoreKind } from './model.js';
import type { Prng } from './prng.js';

/**
 * What kind of bus a run creates: how it sees the store and whether it rate-limits. Bus 0
 * always shares the store with `has` (the common deployment); the others may lack `has`, have
 * no store at all, or limit with `drop`, `throw` or `delay` (few waiters allowed, so a burst
 * meets the bound).
 */
export interface BusPlan {
  store: StoreKind;
  limiter: LimiterPlan | undefined;
}

export function planBus(rng: Prng, config: SimConfig, index: number): BusPlan {
  const { actors } = config;
  let store: StoreKind = 'shared';
  if (index > 0 && actors.noStoreBuses && rng.chance(0.2)) store = 'none';
  else if (index > 0 && actors.storesWithoutHas && rng.chance(0.3)) store = 'shared-no-has';
  const limiter: LimiterPlan | undefined =
    actors.rateLimits && rng.chance(0.25)
      ? {
          onLimit: rng.pick(['drop', 'throw', 'delay', 'delay'] as const),
          rate: rng.int(3, 15),
          intervalMs: 1000,
          burst: rng.int(1, 4),
          maxWaiting: rng.int(1, 4),
        }
      : undefined;
  return { store, limiter };
}

/**
 * The longest a `delay` limiter may hold a publish of `count` events: every allowed waiter
 * ahead takes a token first, a batch's events wait one after the other, and a publish of the
 * same ids may wait for one that waits (IdLocks) — twice that.
 */
export function limiterDelayBoundMs(limiter: LimiterPlan | undefined, count: number): number {
  if (limiter?.onLimit !== 'delay') return 0;
  return Math.ceil((2 * (limiter.maxWaiting + 1 + count) * limiter.intervalMs) / limiter.rate);
}

/**
 * How long a publish may take on this bus without a signal: the contract's waits (the feed's
 * positioning, the wait for the feed) plus the store's own delays and the limiter's delay.
 * `undefined` without a store: a full `block` queue holds a publish until there is room.
 */
export function publishBoundMs(config: SimConfig, record: BusRecord, count: number): number | undefined {
  if (record.store === 'none') return undefined;
  return 2 * config.feedTimeoutMs + 4500 + limiterDelayBoundMs(record.limiter, count);
}
