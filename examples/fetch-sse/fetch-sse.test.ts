// The fetch-sse example on every runtime the repository installs (Node, Bun, Deno, workerd):
// the same app.ts behind each entry file, read from Node with sseEvents. Each event arrives
// once and in order; a client that comes back with a Last-Event-ID gets the rest, then live.
import { type ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { sseEvents } from 'busline/sse';
import { build } from 'esbuild';
import { describe, expect, it, vi } from 'vitest';
import { bunPath, denoPath, requireFromRepo } from '../../test/support/runtimes.js';

const root = resolve(import.meta.dirname, '../..');
const WAIT_MS = 15_000;

type Events = { 'task.updated': { n: number }; 'user.login': { n: number } };

interface Running {
  url: string;
  stop(): Promise<void>;
}

/** Spawns an entry file and waits for its `{"listening": port}` line. */
function spawnServer(command: string, args: string[], env: Record<string, string> = {}): Promise<Running> {
  const child: ChildProcess = spawn(command, args, {
    cwd: root,
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise((done) => child.once('exit', done));
  return new Promise((resolveStart, reject) => {
    const timer = setTimeout(() => reject(new Error(`${command} did not start: ${stderr}`)), WAIT_MS);
    child.once('exit', (code) => reject(new Error(`${command} exited with ${code}: ${stderr}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const port = (JSON.parse(line) as { listening?: number }).listening;
      if (typeof port !== 'number') return;
      clearTimeout(timer);
      resolveStart({
        url: `http://127.0.0.1:${port}`,
        stop: async () => {
          child.kill('SIGKILL');
          await exited;
        },
      });
    });
  });
}

/** worker.ts bundled as wrangler would (platform browser: no Node built-in can sneak in), run by miniflare 3. */
async function startWorker(): Promise<Running> {
  const bundled = await build({
    entryPoints: [resolve(import.meta.dirname, 'worker.ts')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
  });
  const { Miniflare } = requireFromRepo('miniflare') as typeof import('miniflare');
  // No compatibilityFlags: no nodejs_compat, so no Buffer, process or node: modules exist.
  const mf = new Miniflare({
    modules: true,
    durableObjects: { BUS: 'BusObject' },
    script: bundled.outputFiles[0]!.text,
    compatibilityDate: '2024-09-23',
    host: '127.0.0.1',
    port: 0,
  });
  const url = await mf.ready;
  return { url: url.origin, stop: () => mf.dispose() };
}

/**
 * name, start, and whether the server hears at once that a client left. workerd (behind
 * miniflare's proxy and a Durable Object stub) notices only when its next write fails: the
 * next heartbeat, up to heartbeatMs (15 s) later; the subscription is released then.
 */
const RUNTIMES: [string, () => Promise<Running>, boolean][] = [
  [
    'Node (@hono/node-server)',
    () => spawnServer(process.execPath, ['--import', 'tsx', 'examples/fetch-sse/node.ts']),
    true,
  ],
  ['Bun (Bun.serve)', () => spawnServer(bunPath, ['run', 'examples/fetch-sse/bun.ts']), true],
  [
    'Deno (Deno.serve)',
    () =>
      spawnServer(
        denoPath,
        [
          'run',
          '--no-prompt',
          '--no-lock',
          // `./app.js` names app.ts, as TypeScript's NodeNext resolution wants; Deno needs this to follow it.
          '--sloppy-imports',
          '--allow-net=127.0.0.1',
          '--allow-env=PORT,HOST',
          'examples/fetch-sse/deno.ts',
        ],
        { DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' },
      ),
    true,
  ],
  ['Cloudflare Workers (workerd via miniflare)', startWorker, false],
];

async function post(base: string, from: number, to: number): Promise<void> {
  const events = [];
  for (let n = from; n <= to; n++)
    events.push({ type: 'task.updated', data: { n } }, { type: 'user.login', data: { n } });
  const res = await fetch(`${base}/publish`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(events),
  });
  expect(res.status).toBe(200);
}

/** Waits until the server holds `count` subscriptions (a stream opened, or released after the client left). */
async function subscriptions(base: string, count: number): Promise<void> {
  await vi.waitFor(
    async () => {
      const stats = (await (await fetch(`${base}/stats`)).json()) as { subscriptions: number };
      expect(stats.subscriptions).toBe(count);
    },
    { timeout: WAIT_MS, interval: 20 },
  );
}

async function take<T>(iterator: AsyncIterator<T>, count: number): Promise<T[]> {
  const out: T[] = [];
  while (out.length < count) {
    const step = await iterator.next();
    if (step.done) throw new Error(`the stream ended after ${out.length} of ${count} events`);
    out.push(step.value);
  }
  return out;
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe.each(RUNTIMES)('examples/fetch-sse on %s', (_name, start, releasesAtOnce) => {
  it('streams every matching event once, in order, and resumes after a Last-Event-ID', async () => {
    const server = await start();
    try {
      const base = server.url;
      // 1. Live: the pattern filters, the order holds.
      const live = sseEvents<Events, 'task.*'>(`${base}/events`, { pattern: 'task.*' });
      const first = live.next();
      await subscriptions(base, 1);
      await post(base, 1, 5);
      const seen = [(await first).value!, ...(await take(live, 4))];
      expect(seen.map((e) => [e.type, e.data.n])).toEqual(range(1, 5).map((n) => ['task.updated', n]));
      expect(new Set(seen.map((e) => e.cursor)).size).toBe(5);

      // 2. The client leaves after event 3's cursor; the runtime releases its subscription.
      await live.return!(undefined);
      if (releasesAtOnce) await subscriptions(base, 0);
      await post(base, 6, 8);

      // 3. It comes back with that cursor: 4–8 replayed from the store, then 9 live.
      const resumed = sseEvents<Events, 'task.*'>(`${base}/events`, {
        pattern: 'task.*',
        lastEventId: seen[2]!.cursor,
      });
      const replayed = await take(resumed, 5);
      expect(replayed.map((e) => e.data.n)).toEqual(range(4, 8));
      expect(replayed.slice(0, 2).map((e) => e.cursor)).toEqual(seen.slice(3).map((e) => e.cursor));
      await post(base, 9, 9);
      expect((await take(resumed, 1))[0]!.data.n).toBe(9);
      await resumed.return!(undefined);

      // 4. A bad pattern is the client's mistake: 400 before anything streams.
      const bad = await fetch(`${base}/events?pattern=task*`);
      expect(bad.status).toBe(400);
      expect(await bad.json()).toMatchObject({ code: 'INVALID_PATTERN' });

      // 5. The readiness probe: the memory store answers, no shared feed, no consumer group.
      const health = await fetch(`${base}/healthz`);
      expect(health.status).toBe(200);
      expect(await health.json()).toEqual({
        ok: true,
        closed: false,
        store: { reachable: true },
        feed: null,
        groups: [],
      });
    } finally {
      await server.stop();
    }
  });
});
