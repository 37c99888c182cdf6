import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { launchChromium } from '../support/runtimes.js';
import type { SuiteReport } from './portable/harness.js';
import { registeredTests, registerSuite } from './portable/suite.js';
import { bundle, expectAllPassed } from './run-portable.js';

registerSuite();

describe('in Chromium', () => {
  it('passes every portable test in a page', async () => {
    const code = await bundle('entries/browser.ts', 'browser');
    const profile = mkdtempSync(join(tmpdir(), 'busline-chromium-'));
    const context = await launchChromium(profile);
    try {
      const page = await context.newPage();
      const pageErrors: string[] = [];
      page.on('pageerror', (error) => pageErrors.push(error.message));
      await page.addScriptTag({ content: code });
      const report = (await page.evaluate(
        () => (globalThis as { buslinePortableReport?: Promise<unknown> }).buslinePortableReport,
      )) as SuiteReport;
      expect(pageErrors).toEqual([]);
      expectAllPassed(report, registeredTests(), /HeadlessChrome\//);
    } finally {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    }
  });
});
