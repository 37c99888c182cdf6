import { StoreUnavailableError } from './lib.js';
import type { AppendCall } from './sim-store.js';
import { describe, type World } from './world.js';

/**
 * A store call that timed out may still have applied (issue #13, defect 12): a publish whose
 * own append was applied and yet rejected must say it may have been published — a
 * StoreUnavailableError that does not claim "nothing was published" and whose
 * `mayHaveApplied` is not false. A publish's appends are the ones carrying its `data` objects
 * (the bus hands the store the publisher's own).
 */
const DENIAL = /nothing (was|has been|is) (published|stored|applied|written)/i;

export function checkAppendErrors(world: World): void {
  if (!world.config.invariants.has('append-error-honest')) return;
  const byData = new Map<unknown, AppendCall>();
  for (const call of world.store.appends) for (const data of call.data) byData.set(data, call);
  let reported = 0;
  for (const p of world.model.publishes) {
    if (p.error === undefined || reported >= 3) continue;
    const applied = p.data.map((d) => byData.get(d)).find((call) => call?.applied);
    if (applied === undefined) continue;
    const error = p.error as { message?: string; mayHaveApplied?: boolean };
    const problem = !(p.error instanceof StoreUnavailableError)
      ? 'is not a StoreUnavailableError'
      : DENIAL.test(error.message ?? '')
        ? 'says nothing was published'
        : error.mayHaveApplied === false
          ? 'says mayHaveApplied: false'
          : undefined;
    if (problem === undefined) continue;
    reported++;
    world.model.violate(
      'append-error-honest',
      `${p.key}: store.append#${applied.call} (${applied.fault}) stored ${p.ids}, yet the publish rejected with an error that ${problem}: ${describe(p.error)}`,
    );
  }
}
