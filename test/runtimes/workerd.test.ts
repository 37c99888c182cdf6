import { describe, it } from 'vitest';
import { requireFromRepo } from '../support/runtimes.js';
import type { SuiteReport } from './portable/harness.js';
import { registeredTests, registerSuite } from './portable/suite.js';
import { bundle, expectAllPassed } from './run-portable.js';

/** miniflare 3 (CommonJS; miniflare 4 needs Node 22) runs the `workerd` binary it depends on. */
const { Miniflare } = requireFromRepo('miniflare') as typeof import('miniflare');

registerSuite();

describe('on workerd (Cloudflare Workers)', () => {
  it('passes every portable test in a module Worker without nodejs_compat', async () => {
    const script = await bundle('entries/worker.ts', 'browser');
    // No compatibilityFlags: no nodejs_compat, so no Buffer, process or node: modules exist.
    const mf = new Miniflare({ modules: true, script, compatibilityDate: '2024-09-23' });
    try {
      const response = await mf.dispatchFetch('http://portable.test/');
      const report = (await response.json()) as SuiteReport;
      expectAllPassed(report, registeredTests(), /^Cloudflare-Workers$/);
    } finally {
      await mf.dispose();
    }
  });
});
