import { InvalidOptionError } from '../errors.js';
import { describe } from '../event.js';
import { checkTime } from '../option-checks.js';

/** A clock you move by hand: pass `clock.now` as the `clock` option of a bus, store, deduplicator or limiter. */
export interface FakeClock {
  /** The current fake time in epoch ms (a bound function: pass it around freely). */
  readonly now: () => number;
  /** Moves time forward by `ms` and returns the new time. */
  advance(ms: number): number;
  /** Jumps to `epochMs` (backwards too, to test clock steps). */
  set(epochMs: number): void;
}

/** @param start initial epoch ms @default 1_700_000_000_000 (a fixed instant, so tests are repeatable) */
export function createFakeClock(start = 1_700_000_000_000): FakeClock {
  let time = checkTime('start', start);
  return {
    now: () => time,
    advance(ms) {
      if (!Number.isFinite(ms) || ms < 0)
        throw new InvalidOptionError(`Expected \`ms\` to be a finite number ≥ 0, got ${describe(ms)}`);
      time += ms;
      return time;
    },
    set(to) {
      time = checkTime('epochMs', to);
    },
  };
}
