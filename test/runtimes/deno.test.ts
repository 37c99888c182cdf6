import { describe, it } from 'vitest';
import { denoPath } from '../support/runtimes.js';
import { DENO_ENV, DENO_RUN } from './deno-run.js';
import { registeredTests, registerSuite } from './portable/suite.js';
import { bundle, expectAllPassed, runForReport, writeTemporary } from './run-portable.js';

registerSuite();

describe('on Deno', () => {
  it('passes every portable test with no permissions at all', async () => {
    const file = writeTemporary('portable.mjs', await bundle('entries/cli.ts', 'browser'));
    try {
      expectAllPassed(
        await runForReport(denoPath, [...DENO_RUN, file.path], DENO_ENV),
        registeredTests(),
        /^Deno\//,
      );
    } finally {
      file.remove();
    }
  });
});
