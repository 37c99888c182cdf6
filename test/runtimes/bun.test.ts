import { describe, it } from 'vitest';
import { bunPath } from '../support/runtimes.js';
import { registeredTests, registerSuite } from './portable/suite.js';
import { bundle, expectAllPassed, runForReport, writeTemporary } from './run-portable.js';

registerSuite();

describe('on Bun', () => {
  it('passes every portable test (bus, patterns, store and replay, dedup, limiter, SSE)', async () => {
    const file = writeTemporary('portable.mjs', await bundle('entries/cli.ts', 'browser'));
    try {
      expectAllPassed(await runForReport(bunPath, ['run', file.path]), registeredTests(), /^Bun\//);
    } finally {
      file.remove();
    }
  });
});
