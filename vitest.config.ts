import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'examples/**/*.test.ts'],
    // The type tests (test/**/*.test-d.ts) are checked by `npm run typecheck` (tsc over test/),
    // which `npm test` runs before vitest: a failed expectTypeOf is a compile error there.
    // Running them again here cost about 12 s of the CI budget.
    typecheck: { enabled: false },
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Most test time is waiting (Redis, child processes, Chromium, timers), not CPU: more
    // workers than the 2 cores of CI shorten the run (3: 4 made timing-bound Redis tests flaky).
    maxWorkers: 3,
  },
});
