import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { launchChromium } from '../../test/support/runtimes.js';

const root = resolve(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'busline-sse-dashboard-'));
const storeFile = join(dir, 'events.jsonl');
const WAIT_MS = 10_000;

interface Server {
  child: ChildProcess;
  port: number;
  /** Every JSON line the server logged so far. */
  log: Record<string, unknown>[];
  exited: Promise<unknown>;
}

/** Starts server.ts in a child process of its own (plain node with the tsx loader: one process, so SIGKILL really kills it). */
function startServer(port: number, file = storeFile): Promise<Server> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'examples/sse-dashboard/server.ts'], {
    cwd: root,
    env: { ...process.env, PORT: String(port), STORE_FILE: file },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log: Record<string, unknown>[] = [];
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  started.add(child);
  void exited.then(() => started.delete(child));
  return new Promise((resolveStart, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start: ${stderr}`)), WAIT_MS);
    child.once('exit', (code) => reject(new Error(`server exited with ${code}: ${stderr}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const entry = JSON.parse(line) as Record<string, unknown>;
      log.push(entry);
      if (typeof entry.listening === 'number') {
        clearTimeout(timer);
        resolveStart({ child, port: entry.listening, log, exited });
      }
    });
  });
}

async function post(port: number, events: { type: string; data: unknown }[]): Promise<void> {
  const res = await fetch(`http://127.0.0.1:${port}/publish`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(events),
  });
  expect(res.status).toBe(200);
}

/** Events numbered `from`..`to` for the page's pattern, each followed by one it must not show. */
function numbered(from: number, to: number): { type: string; data: unknown }[] {
  return Array.from({ length: to - from + 1 }, (_, i) => [
    { type: 'task.updated', data: { n: from + i } },
    { type: 'user.login', data: { n: from + i } },
  ]).flat();
}

/** What the page shows: the `n` of every event row, in order, and their cursors. */
async function shown(page: Page): Promise<{ ns: number[]; cursors: string[]; types: string[] }> {
  return page.$$eval('#events li.event', (items) => ({
    ns: items.map((li) => JSON.parse(li.querySelector('.data')!.textContent!).n as number),
    cursors: items.map((li) => (li as HTMLElement).dataset.cursor!),
    types: items.map((li) => (li as HTMLElement).dataset.type!),
  }));
}

async function waitForCount(page: Page, count: number): Promise<void> {
  await page.waitForFunction((n) => document.querySelectorAll('#events li.event').length >= n, count, {
    timeout: WAIT_MS,
  });
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

let context: BrowserContext | undefined;
let server: Server | undefined;
/** Every server child still running: each test restarts its server, and none may outlive the file. */
const started = new Set<ChildProcess>();

beforeAll(async () => {
  // DNS rebinding, simulated: a foreign name that resolves to the dashboard's address.
  context = await launchChromium(join(dir, 'profile'), ['--host-resolver-rules=MAP rebind.test 127.0.0.1']);
});

afterAll(async () => {
  await context?.close();
  await Promise.all(
    [...started].map((child) => {
      if (child.exitCode !== null || child.signalCode !== null) return undefined;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      return exited;
    }),
  );
  rmSync(dir, { recursive: true, force: true });
});

it('the page survives a SIGKILLed server: it resumes via Last-Event-ID with every event once, in order', async () => {
  server = await startServer(0);
  const port = server.port;
  const page = await context!.newPage();
  await page.goto(`http://127.0.0.1:${port}/?pattern=task.*`);
  await page.waitForSelector('#status[data-state="live"]', { timeout: WAIT_MS });

  // 1. Live: the page shows what is published, in order, filtered by its wildcard pattern.
  await post(port, numbered(1, 10));
  await waitForCount(page, 10);
  expect((await shown(page)).ns).toEqual(range(1, 10));
  const beforeKill = (await shown(page)).cursors.at(-1)!;

  // 2. Published and stored right before the server dies: the page may or may not have them.
  await post(port, numbered(11, 15));
  server.child.kill('SIGKILL');
  await server.exited;
  await page.waitForSelector('#status:not([data-state="live"])', { timeout: WAIT_MS });

  // 3. Published while the server is down, straight into its store file.
  const exec = promisify(execFile);
  const args = numbered(16, 20).flatMap((e) => [e.type, JSON.stringify(e.data)]);
  await exec(process.execPath, ['--import', 'tsx', 'examples/sse-dashboard/publish.ts', storeFile, ...args], {
    cwd: root,
  });

  // 4. The server comes back on the same port and gets events at once, most likely before the
  //    browser (retry: 500 ms) has reconnected with its last id; replay or live, each arrives once.
  server = await startServer(port);
  await post(port, numbered(21, 25));
  await waitForCount(page, 25);
  await page.waitForSelector('#status[data-state="live"]', { timeout: WAIT_MS });

  // 5. And live again.
  await post(port, numbered(26, 30));
  await waitForCount(page, 30);

  const final = await shown(page);
  expect(final.ns).toEqual(range(1, 30));
  expect(final.types.every((t) => t === 'task.updated')).toBe(true);
  expect(new Set(final.cursors).size).toBe(30);
  expect([...final.cursors].sort()).toEqual(final.cursors);
  // The restarted server was asked to resume after a cursor the page had shown (at least event 10).
  const resume = server.log.find((entry) => entry.connect !== undefined);
  expect(resume).toMatchObject({ connect: 'task.*', via: expect.stringMatching(/^(header|query)$/) });
  expect(final.cursors).toContain(resume!.lastEventId);
  expect((resume!.lastEventId as string) >= beforeKill).toBe(true);
  expect(await page.$$('#events li.notice')).toHaveLength(0);
  // Nothing arrives twice even after a further wait for stragglers.
  await page.waitForTimeout(300);
  expect((await shown(page)).ns).toEqual(range(1, 30));
}, 30_000);

/** A raw request (fetch cannot set Host); resolves with the status. */
function statusOf(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string>,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers }, (res) => {
      res.resume();
      resolve(res.statusCode!);
    });
    req.on('error', reject);
    req.end(method === 'POST' ? JSON.stringify({ type: 'evil.write', data: { n: -1 } }) : undefined);
  });
}

it('refuses cross-site writes (403), foreign Hosts on every route (DNS rebinding, 403) and non-JSON writes (415)', async () => {
  const guarded = await startServer(0, join(dir, 'guarded.jsonl'));
  const attackerSite = createServer((_, res) => {
    // A "simple" cross-site request: text/plain, no preflight; the browser sends it and hides the answer.
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(`<script>fetch('http://127.0.0.1:${guarded.port}/publish', { method: 'POST', mode: 'no-cors',
      body: JSON.stringify({ type: 'evil.csrf', data: { n: -1 } }) }).finally(() => { document.title = 'sent'; });</script>`);
  });
  try {
    const port = guarded.port;
    const page = await context!.newPage();
    await page.goto(`http://127.0.0.1:${port}/?pattern=**`);
    await page.waitForSelector('#status[data-state="live"]', { timeout: WAIT_MS });

    // 1. A page of another origin posts to the dashboard from the victim's browser.
    await new Promise<void>((resolve) => attackerSite.listen(0, '127.0.0.1', resolve));
    const attackerOrigin = `http://127.0.0.1:${(attackerSite.address() as AddressInfo).port}`;
    const attacker = await context!.newPage();
    await attacker.goto(attackerOrigin);
    await attacker.waitForFunction(() => document.title === 'sent', undefined, { timeout: WAIT_MS });
    expect(guarded.log).toContainEqual(
      expect.objectContaining({ refused: 403, reason: `cross-site Origin ${attackerOrigin}` }),
    );

    // 2. DNS rebinding: the dashboard's address under the attacker's name is refused, page and stream alike.
    expect((await attacker.goto(`http://rebind.test:${port}/`))!.status()).toBe(403);
    await attacker.close();
    const foreign = { host: `rebind.test:${port}`, 'content-type': 'application/json' };
    expect(await statusOf(port, 'GET', '/events?pattern=**', foreign)).toBe(403);
    expect(await statusOf(port, 'POST', '/publish', foreign)).toBe(403);

    // 3. Cross-site Origin, and a body that is not declared as JSON.
    const json = { 'content-type': 'application/json' };
    expect(await statusOf(port, 'POST', '/publish', { ...json, origin: 'http://evil.example' })).toBe(403);
    expect(await statusOf(port, 'POST', '/publish', { ...json, origin: 'null' })).toBe(403);
    expect(await statusOf(port, 'POST', '/publish', { 'content-type': 'text/plain' })).toBe(415);

    // 4. The dashboard's own page may write; it is the only event the stream ever carried.
    const status = await page.evaluate(async () => {
      const res = await fetch('/publish', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ type: 'task.mine', data: { n: 1 } }),
      });
      return res.status;
    });
    expect(status).toBe(200);
    await waitForCount(page, 1);
    expect(await shown(page)).toMatchObject({ ns: [1], types: ['task.mine'] });
  } finally {
    attackerSite.close();
    guarded.child.kill('SIGTERM');
    await guarded.exited;
  }
}, 30_000);

/**
 * busline/sse's client bundled for a page: platform 'browser' fails on any Node built-in, so
 * this also proves sseEvents (and what it imports) needs nothing of Node's.
 */
async function clientBundle(): Promise<string> {
  const result = await build({
    stdin: { contents: "export { sseEvents } from 'busline/sse';", resolveDir: root, loader: 'ts' },
    bundle: true,
    format: 'iife',
    globalName: 'buslineSse',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
  });
  return result.outputFiles[0]!.text;
}

it('sseEvents in the page survives a SIGKILLed server too: every event once, in order, over fetch', async () => {
  const file = join(dir, 'client.jsonl');
  server = await startServer(0, file);
  const port = server.port;
  const page = await context!.newPage();
  // Any page of the dashboard's origin will do: the client fetches /events same-origin.
  await page.goto(`http://127.0.0.1:${port}/client`);
  await page.addScriptTag({ content: await clientBundle() });
  await page.evaluate(() => {
    const w = window as unknown as {
      buslineSse: {
        sseEvents: (
          url: string,
          options: object,
        ) => AsyncIterable<{ data: { n: number }; cursor: string; type: string }>;
      };
      received: { n: number; cursor: string; type: string }[];
      failure: string | null;
    };
    w.received = [];
    w.failure = null;
    void (async () => {
      try {
        for await (const e of w.buslineSse.sseEvents('/events', { pattern: 'task.*' }))
          w.received.push({ n: e.data.n, cursor: e.cursor, type: e.type });
      } catch (error) {
        w.failure = String(error);
      }
    })();
  });
  const received = () =>
    page.evaluate(
      () => (window as unknown as { received: { n: number; cursor: string; type: string }[] }).received,
    );
  const waitForReceived = (count: number) =>
    page.waitForFunction((n) => (window as unknown as { received: unknown[] }).received.length >= n, count, {
      timeout: WAIT_MS,
    });
  const connected = (log: Record<string, unknown>[]) =>
    expect
      .poll(() => log.filter((entry) => entry.connect !== undefined).length, { timeout: WAIT_MS })
      .toBe(1);

  // 1. Live.
  await connected(server.log);
  await post(port, numbered(1, 10));
  await waitForReceived(10);
  const beforeKill = (await received()).at(-1)!.cursor;

  // 2. Stored right before the server dies; 3. published while it is down, into its store file.
  await post(port, numbered(11, 15));
  server.child.kill('SIGKILL');
  await server.exited;
  const args = numbered(16, 20).flatMap((e) => [e.type, JSON.stringify(e.data)]);
  await promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', 'examples/sse-dashboard/publish.ts', file, ...args],
    {
      cwd: root,
    },
  );

  // 4. Back on the same port, events at once (likely before the client is back), then live.
  server = await startServer(port, file);
  await post(port, numbered(21, 25));
  await waitForReceived(25);
  await post(port, numbered(26, 30));
  await waitForReceived(30);

  const final = await received();
  expect(final.map((e) => e.n)).toEqual(range(1, 30));
  expect(final.every((e) => e.type === 'task.updated')).toBe(true);
  const cursors = final.map((e) => e.cursor);
  expect(new Set(cursors).size).toBe(30);
  expect([...cursors].sort()).toEqual(cursors);
  expect(await page.evaluate(() => (window as unknown as { failure: string | null }).failure)).toBeNull();
  // The client resumed by itself, with the header (fetch can send it), after a cursor it had.
  const resume = server.log.find((entry) => entry.connect !== undefined);
  expect(resume).toMatchObject({ connect: 'task.*', via: 'header' });
  expect(cursors).toContain(resume!.lastEventId);
  expect((resume!.lastEventId as string) >= beforeKill).toBe(true);
  await page.waitForTimeout(300);
  expect((await received()).map((e) => e.n)).toEqual(range(1, 30));
}, 30_000);
