// Code a bus does not use should not be in its bundle (issue #15): an app on the memory store
// is bundled from src/ by esbuild with code splitting, as the bundle-size bench bundles it (from
// dist/ there), and the code that loads at start must not hold the consumer groups or the shared-store
// delivery (each behind a dynamic import, loaded on first use). The bench reports the sizes;
// this test keeps the split from being undone by a static import.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'busline-split-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The bench's app: memory store, dedup, a limiter, `on`, a replaying `subscribe`. */
const memoryApp = `
import { EventBus } from ${JSON.stringify(join(root, 'src/index.ts'))};
const bus = new EventBus({ dedup: { windowMs: 60_000 }, rateLimit: { rate: 100, intervalMs: 1000 } });
bus.on('task.*', (event) => console.log(event.type));
await bus.publish({ type: 'task.created', data: { id: 1 } });
for await (const event of bus.subscribe('task.**', { from: 'start' })) { console.log(event.data); break; }
`;

/** The source files in the chunks loaded at start, and in those loaded later. */
async function split(app: string): Promise<{ atStart: Set<string>; later: Set<string> }> {
  const entry = join(dir, 'app.mjs');
  writeFileSync(entry, app);
  const { metafile } = await build({
    entryPoints: [entry],
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    splitting: true,
    outdir: join(dir, 'out'),
    write: false,
    metafile: true,
    logLevel: 'error',
  });
  const outputs = metafile.outputs;
  const startFiles = new Set<string>();
  const visit = (path: string): void => {
    if (startFiles.has(path)) return;
    startFiles.add(path);
    for (const imp of outputs[path]!.imports) if (imp.kind === 'import-statement') visit(imp.path);
  };
  visit(
    Object.keys(outputs).find((path) => outputs[path]!.entryPoint !== undefined && path.endsWith('app.js'))!,
  );
  const atStart = new Set<string>();
  const later = new Set<string>();
  for (const [path, output] of Object.entries(outputs)) {
    for (const input of Object.keys(output.inputs)) {
      const source = input.replace(/^.*?src\//, '');
      (startFiles.has(path) ? atStart : later).add(source);
    }
  }
  return { atStart, later };
}

describe('code splitting of a memory-store app', () => {
  it('loads the consumer groups and the shared-store delivery only on first use', async () => {
    const { atStart, later } = await split(memoryApp);
    // What the app uses is there (the check below would pass on an empty bundle otherwise).
    for (const used of ['bus/event-bus.ts', 'store/memory/memory-event-store.ts', 'subscription/catch-up.ts'])
      expect(atStart).toContain(used);
    for (const lazy of [
      'groups/consumer-groups.ts',
      'groups/resolve-consume-options.ts',
      'bus/shared-delivery.ts',
      'bus/live-feed.ts',
      'publish/publish-wait.ts',
    ]) {
      expect(atStart).not.toContain(lazy);
      expect(later).toContain(lazy);
    }
  }, 30_000);
});
