import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, repoRoot } from '../support/runtimes.js';

/**
 * An app bundled with code splitting, as Vite, Rollup or webpack build it, loads the consumer
 * groups and the shared-store delivery as chunks of their own on first use. Here the first
 * request for each of those chunks fails (503), as after a deploy that replaced them or on a
 * flaky network: the call that needed the code gets a ModuleLoadError, and the next call loads
 * it (Chromium fetches a failed dynamic import again) and works.
 */
const LAZY_CHUNK = /^\/(consumer-groups|shared-delivery)-\w+\.js$/;

let server: Server;
let origin: string;
const requests: { path: string; status: number }[] = [];

beforeAll(async () => {
  const result = await build({
    entryPoints: { app: join(repoRoot, 'test/runtimes/entries/chunk-load.ts') },
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    outdir: '/',
    write: false,
    logLevel: 'silent',
  });
  const files = new Map(result.outputFiles.map((file) => [file.path, file.text]));
  const failedOnce = new Set<string>();
  server = createServer((request, response) => {
    const path = request.url ?? '/';
    const respond = (status: number, type: string, body: string): void => {
      requests.push({ path, status });
      response.writeHead(status, { 'content-type': type });
      response.end(body);
    };
    if (path === '/') return respond(200, 'text/html', '<script type="module" src="/app.js"></script>');
    const code = files.get(path);
    if (code === undefined) return respond(404, 'text/plain', 'not found');
    if (LAZY_CHUNK.test(path) && !failedOnce.has(path)) {
      failedOnce.add(path);
      return respond(503, 'text/plain', 'unavailable');
    }
    respond(200, 'text/javascript', code);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

describe('in Chromium, a lazy chunk whose first request fails', () => {
  it('fails the call that needed it with ModuleLoadError, and the next call loads it and works', async () => {
    const profile = mkdtempSync(join(tmpdir(), 'busline-chunk-load-'));
    const context = await launchChromium(profile);
    try {
      const page = await context.newPage();
      const pageErrors: string[] = [];
      page.on('pageerror', (error) => pageErrors.push(error.message));
      await page.goto(`${origin}/`);
      await page.waitForFunction(() => 'chunkLoadReport' in globalThis);
      const report = await page.evaluate(
        () => (globalThis as { chunkLoadReport?: Promise<unknown> }).chunkLoadReport,
      );
      expect(pageErrors).toEqual([]);
      expect(report).toEqual({
        groups: { first: 'MODULE_LOAD_FAILED', handledOnce: true },
        shared: {
          first: 'MODULE_LOAD_FAILED',
          reported: ['MODULE_LOAD_FAILED'],
          second: 'delivered',
          deliveredOnce: true,
          positioned: true,
        },
      });
      // Each lazy chunk was asked for twice: refused, then served.
      const lazy = requests.filter((r) => LAZY_CHUNK.test(r.path));
      expect(lazy.map((r) => r.status).sort()).toEqual([200, 200, 503, 503]);
    } finally {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    }
  });
});
