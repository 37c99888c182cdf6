import type { SimConfig } from './flags.js';
import { BuslineError } from './lib.js';
import type { BusRecord, Model } from './model.js';
import type { PrivateStore } from './private-store.js';
import type { Prng } from './prng.js';
import type { Scheduler } from './scheduler.js';
import type { SimStore, StoredRecord } from './sim-store.js';

/**
 * What every actor shares in one run, and the few helpers they all use. Actors record what
 * they saw in the Model and never judge it, apart from facts only visible on the spot (the
 * type of an error).
 */

export const TYPES = ['a.x', 'a.y', 'a.y.z', 'b.x', 'b.y'] as const;
export const PATTERNS = ['a.*', 'a.**', '**', 'b.x', 'a.y.*', '*.x'] as const;
export const STREAMS = ['s1', 's2', 's3'] as const;

export interface World {
  sched: Scheduler;
  store: SimStore;
  model: Model;
  config: SimConfig;
  rng: Prng;
  /** Actors start nothing new once this is set (past the horizon). */
  calm: boolean;
  nextEventId: number;
  /** Resolves per bus once its ready() resolved. */
  readyWaiters: Map<number, { promise: Promise<void>; resolve: () => void }>;
  /** The stores of buses with a store of their own (`private`), by bus index. */
  privateStores: Map<number, PrivateStore>;
  /**
   * Choices of actors added after the regression seeds were found (private stores, publishers
   * started with a replay): a stream of its own, apart from `rng`, so that a seed that draws
   * none of them runs exactly as it did before they existed.
   */
  laterChoices: Prng;
  /** The run's seed, for streams derived without drawing from another. */
  seed: number;
}

/** The ground truth a bus's events are held to: its private store's log, else the shared one's. */
export function ledgerOf(world: World, bus: number): { log: readonly StoredRecord[]; trimmedHigh: number } {
  return world.privateStores.get(bus) ?? world.store;
}

export const code = (error: unknown): string | undefined => (error as { code?: string } | null)?.code;
export const describe = (error: unknown): string =>
  `${(error as Error)?.name ?? 'Error'}${code(error) ? `[${code(error)}]` : ''}: ${(error as Error)?.message ?? String(error)}`;

/** The contract: everything the bus rejects with is a BuslineError with a stable code. */
export function checkTyped(world: World, where: string, error: unknown): void {
  if (!(error instanceof BuslineError) || typeof error.code !== 'string')
    world.model.violate('typed-errors', `${where} rejected with a non-BuslineError: ${describe(error)}`);
}

export function upTo(world: World, ms: number): number {
  return Math.max(0, Math.min(ms, world.config.horizonMs - world.sched.now));
}

/** Waits for the bus to be connected, but not past the horizon. */
export async function connected(world: World, record: BusRecord): Promise<void> {
  const waiter = world.readyWaiters.get(record.index)!;
  let giveUp: (() => void) | undefined;
  const task = world.sched.schedule(upTo(world, 1e9), `bus${record.index} ready-wait gives up`, () =>
    giveUp?.(),
  );
  await Promise.race([waiter.promise, new Promise<void>((resolve) => (giveUp = resolve))]);
  world.sched.cancel(task); // once connected, the give-up task would only clutter the schedule
}
