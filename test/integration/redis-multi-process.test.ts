import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, expect, it } from 'vitest';
import type { StoredEvent } from '../../src/index.js';
import { RedisEventStore } from '../../src/redis/index.js';
import { referenceMatches } from '../pattern/reference-matcher.js';
import { connectNodeRedis, deletePrefix, uniquePrefix } from '../redis/store/redis-fixtures.js';

/**
 * API.md: with a shared store, a bus in every process sees events published by any process,
 * in store order per stream, exactly once per subscription. Three real processes each
 * publish 20,000 events to random streams while subscribed to wildcard patterns; every
 * subscriber in every process must receive exactly the matching events of the whole log,
 * once each, in the store's order per stream.
 */
const PROCESSES = 3;
const EVENTS_EACH = 20_000;
const PATTERNS = ['p.*', 'q.**', '**.y', '**'];
const script = resolve(import.meta.dirname, 'bus-process.ts');
const prefix = uniquePrefix('multi-process');
const children: ChildProcess[] = [];

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  const client = await connectNodeRedis();
  await deletePrefix(client, prefix);
  await client.quit();
});

function start(name: string, outFile: string) {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', script, prefix, name, String(EVENTS_EACH), outFile],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  children.push(child);
  const lines = createInterface({ input: child.stdout! });
  const waiters: { line: string; resolve: () => void }[] = [];
  lines.on('line', (line) => {
    const index = waiters.findIndex((w) => w.line === line);
    if (index >= 0) waiters.splice(index, 1)[0]!.resolve();
  });
  return {
    when: (line: string) => new Promise<void>((resolve) => waiters.push({ line, resolve })),
    /** Sends a command and resolves on the reply line. */
    ask(command: string, reply: string): Promise<void> {
      const replied = this.when(reply);
      child.stdin!.write(`${command}\n`);
      return replied;
    },
  };
}

it('three processes on one Redis: every subscriber gets exactly the matching events, once, in store order per stream', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'busline-mp-'));
  const files = Array.from({ length: PROCESSES }, (_, i) => join(dir, `p${i}.json`));
  const processes = files.map((file, i) => start(`p${i}`, file));
  await Promise.all(processes.map((p) => p.when('ready'))); // every feed positioned before anyone publishes
  await Promise.all(processes.map((p) => p.ask('publish', 'published')));
  const total = PROCESSES * EVENTS_EACH;
  await Promise.all(processes.map((p) => p.ask(`expect ${total}`, 'written')));

  // The reference: the store's global log, read back in cursor order.
  const client = await connectNodeRedis();
  const store = new RedisEventStore({ client, prefix });
  const log: StoredEvent[] = [];
  for (let after: string | undefined; ; ) {
    const page = await store.read({ after, limit: 10_000 });
    log.push(...page.events);
    if (page.next === undefined) break;
    after = page.next;
  }
  await store.close();
  await client.quit();
  expect(log).toHaveLength(total);

  for (const file of files) {
    const received = JSON.parse(readFileSync(file, 'utf8')) as Record<string, [string, string, string][]>;
    for (const pattern of PATTERNS) {
      const expected = log.filter((e) => referenceMatches(pattern, e.type));
      const got = received[pattern]!;
      expect(got.length, `${file} ${pattern}`).toBe(expected.length);
      expect(new Set(got.map(([id]) => id)).size).toBe(got.length); // once each
      expect(new Set(got.map(([id]) => id))).toEqual(new Set(expected.map((e) => e.id)));
      for (let s = 0; s < 8; s++) {
        const stream = `s${s}`;
        expect(got.filter(([, st]) => st === stream).map(([id]) => id)).toEqual(
          expected.filter((e) => e.stream === stream).map((e) => e.id),
        );
      }
    }
  }
}, 180_000);
