import { afterAll, beforeAll, describe, it } from 'vitest';
import { bunPath, denoPath } from '../support/runtimes.js';
import { DENO_ENV, DENO_RUN } from './deno-run.js';
import { registeredTests } from './portable/harness.js';
import { redisStoreTests } from './redis/store-scenario.js';
import { bundle, expectAllPassed, runForReport, writeTemporary } from './run-portable.js';

redisStoreTests();

/** busline/redis with node-redis, bundled for a server runtime (node: built-ins kept). */
let file: ReturnType<typeof writeTemporary>;
beforeAll(async () => {
  file = writeTemporary('redis-store.mjs', await bundle('entries/redis-cli.ts', 'node'));
});
afterAll(() => file.remove());

describe('busline/redis against the real Redis', () => {
  it('passes the store scenario on Bun', async () => {
    expectAllPassed(await runForReport(bunPath, ['run', file.path]), registeredTests(), /^Bun\//);
  });

  it('passes the store scenario on Deno, allowed only to reach 127.0.0.1:6379 (and node-redis its one variable)', async () => {
    // node-redis reads REDIS_DEBUG_MAINTENANCE when it connects; Deno asks for each variable.
    const allow = ['--allow-net=127.0.0.1:6379', '--allow-env=REDIS_DEBUG_MAINTENANCE'];
    const report = await runForReport(denoPath, [...DENO_RUN, ...allow, file.path], DENO_ENV);
    expectAllPassed(report, registeredTests(), /^Deno\//);
  });
});
