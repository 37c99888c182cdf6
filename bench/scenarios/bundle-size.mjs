// Bundle size: what an app that uses EventBus with the memory store, dedup and a rate limiter
// ships to a browser. esbuild bundles the built package (dist/, what npm users get), minified
// for the browser; sizes are of the output, raw and gzipped (level 9). Two builds: with code
// splitting (what Vite, Rollup and webpack do by default: code behind a dynamic import(), such
// as the consumer groups and the shared-store delivery, goes to a chunk loaded on first use) and without (one file).

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import ts from 'typescript';
import { formatBytes, target } from '../report.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TARGET_KIB = 16;

/** The app: every feature the target names is used, so none of it may be shaken out. */
const APP = (from) => `
import { EventBus } from ${JSON.stringify(from)};
const bus = new EventBus({
  dedup: { windowMs: 60_000 },
  rateLimit: { rate: 100, intervalMs: 1000 },
});
bus.on('task.*', (event) => console.log(event.type));
await bus.publish({ type: 'task.created', data: { id: 1 } });
for await (const event of bus.subscribe('task.**', { from: 'start' })) {
  console.log(event.data);
  break;
}
`;

async function bundle(entry, splitting, outdir, plugins = []) {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    splitting,
    outdir,
    write: false,
    metafile: true,
    logLevel: 'error',
    plugins,
  });
  // A dynamically imported module is an entry point of its own in the metafile: match the app's.
  const entryOut = Object.entries(result.metafile.outputs).find(
    ([, o]) => o.entryPoint && join(ROOT, o.entryPoint) === entry,
  )[0];
  const files = result.outputFiles.filter((f) => f.path.endsWith('.js'));
  const byPath = new Map(files.map((f) => [relative(ROOT, f.path), f.contents]));
  // Loaded at start: the entry and the chunks it imports statically; the rest waits for an import().
  const atStart = new Set();
  const visit = (path) => {
    if (atStart.has(path)) return;
    atStart.add(path);
    for (const imp of result.metafile.outputs[path].imports)
      if (imp.kind === 'import-statement') visit(imp.path);
  };
  visit(entryOut);
  const size = (paths) => {
    const code = Buffer.concat(paths.map((p) => byPath.get(p)));
    return { min: code.length, gz: gzipSync(code, { level: 9 }).length };
  };
  const lazy = [...byPath.keys()].filter((p) => !atStart.has(p));
  return {
    start: size([...atStart]),
    lazy: lazy.length > 0 ? size(lazy) : undefined,
    metafile: result.metafile,
    atStart,
  };
}

/** Bytes each source file contributes to the minified bundle, largest first (bundled from src/). */
async function breakdown(dir) {
  const entry = join(dir, 'src-app.mjs');
  writeFileSync(entry, APP(join(ROOT, 'src/index.ts')));
  const { metafile, atStart } = await bundle(entry, true, join(dir, 'out-src'));
  const inputs = new Map();
  for (const path of atStart) {
    for (const [input, { bytesInOutput }] of Object.entries(metafile.outputs[path].inputs))
      inputs.set(input, bytesInOutput);
  }
  return [...inputs].filter(([path]) => path.includes('src/')).sort((a, b) => b[1] - a[1]);
}

/**
 * An esbuild plugin that empties every string and template literal of 30 characters or more in
 * src/ (error messages, mostly), through TypeScript's parser: about how much of the bundle is
 * text, for the floor analysis only.
 */
const emptyLongStrings = {
  name: 'empty-long-strings',
  setup(builder) {
    builder.onLoad({ filter: /[\\/]src[\\/].*\.ts$/ }, async ({ path }) => {
      const source = ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.Latest, true);
      const long = (node) => node.getEnd() - node.getStart() >= 30;
      const visit = (context) => (node) => {
        if ((ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) && long(node)) {
          // Module specifiers and property names stay: only values are text.
          if (!ts.isImportDeclaration(node.parent) && !ts.isExportDeclaration(node.parent)) {
            return ts.factory.createStringLiteral('');
          }
        }
        if (ts.isTemplateExpression(node) && long(node)) {
          // Keep the interpolated expressions (they may call code), drop the text around them.
          return ts.factory.createArrayLiteralExpression(
            node.templateSpans.map((span) => ts.visitNode(span.expression, visit(context))),
          );
        }
        return ts.visitEachChild(node, visit(context), context);
      };
      const [out] = ts.transform(source, [
        (context) => (root) => ts.visitNode(root, visit(context)),
      ]).transformed;
      return { contents: ts.createPrinter().printFile(out), loader: 'ts' };
    });
  },
};

/** The start chunk's gzipped size, bundled from src/ with long strings emptied. */
async function startWithoutLongStrings(dir) {
  const entry = join(dir, 'src-app-short.mjs');
  writeFileSync(entry, APP(join(ROOT, 'src/index.ts')));
  return (await bundle(entry, true, join(dir, 'out-short'), [emptyLongStrings])).start.gz;
}

/**
 * Modules the app above never runs (the telemetry port's glue, schemas, health, the default
 * error logger), which the bus imports statically all the same. (The shared-store delivery and
 * the consumer groups are behind dynamic imports: not at start.)
 */
const UNUSED_BY_APP = [
  'telemetry/traced-calls.ts',
  'schema/validate-data.ts',
  'bus/bus-health.ts',
  'bus/error-logger.ts',
];

/** An esbuild plugin that replaces each of UNUSED_BY_APP with stubs of its exports (floor analysis only). */
const stubUnused = {
  name: 'stub-unused',
  setup(builder) {
    builder.onLoad({ filter: /[\\/]src[\\/].*\.ts$/ }, ({ path }) => {
      if (!UNUSED_BY_APP.some((file) => path.replaceAll('\\', '/').endsWith(`src/${file}`))) return undefined;
      const names = [
        ...readFileSync(path, 'utf8').matchAll(/export (?:async )?(?:function\*?|class|const|let) (\w+)/g),
      ];
      return {
        contents: names.map(([, name]) => `export const ${name} = undefined;`).join('\n'),
        loader: 'js',
      };
    });
  },
};

/** The start chunk's gzipped size without UNUSED_BY_APP, and also without long strings. */
async function startWithoutUnused(dir) {
  const entry = join(dir, 'src-app-unused.mjs');
  writeFileSync(entry, APP(join(ROOT, 'src/index.ts')));
  const unused = (await bundle(entry, true, join(dir, 'out-unused'), [stubUnused])).start.gz;
  const both = (await bundle(entry, true, join(dir, 'out-both'), [stubUnused, emptyLongStrings])).start.gz;
  return { unused, both };
}

export async function run() {
  const dir = mkdtempSync(join(tmpdir(), 'busline-bundle-'));
  try {
    const entry = join(dir, 'app.mjs');
    writeFileSync(entry, APP(join(ROOT, 'dist/index.js')));
    const split = await bundle(entry, true, join(dir, 'out-split'));
    const single = await bundle(entry, false, join(dir, 'out-single'));
    const files = await breakdown(dir);
    const shortGz = await startWithoutLongStrings(dir);
    const withoutUnused = await startWithoutUnused(dir);
    const kib = (bytes) => bytes / 1024;
    const table = [
      '| build | loaded at start: minified | gzipped | loaded on first use (consumer groups, shared-store delivery): minified | gzipped |',
      '| --- | ---: | ---: | ---: | ---: |',
      `| code splitting (Vite, Rollup, webpack) | ${formatBytes(split.start.min)} | ${formatBytes(split.start.gz)} | ${split.lazy ? formatBytes(split.lazy.min) : '—'} | ${split.lazy ? formatBytes(split.lazy.gz) : '—'} |`,
      `| one file (esbuild without splitting) | ${formatBytes(single.start.min)} | ${formatBytes(single.start.gz)} | — | — |`,
    ].join('\n');
    const top = files
      .slice(0, 12)
      .map(([path, bytes]) => `${path.replace(/^.*src\//, '')} ${formatBytes(bytes)}`)
      .join(', ');
    const total = files.reduce((n, [, bytes]) => n + bytes, 0);
    return {
      title: 'Bundle size',
      summary: `EventBus with the memory store, dedup and a rate limiter, bundled by esbuild for the browser from dist/ (minified; gzip -9).`,
      description: [
        'An app that constructs `new EventBus({ dedup, rateLimit })` (the default memory store), subscribes with `on`',
        'and with `subscribe(…, { from })` (replay), and publishes, is bundled from the built package by esbuild',
        '(`--bundle --minify --platform=browser --format=esm`). "Loaded at start" is the entry file and the chunks',
        'it imports statically; the consumer groups sit behind a dynamic `import()` in `bus.consume` and',
        '`bus.deadLetters`, and the delivery through a shared store (live feed, publish waits) behind one',
        'made when a bus is given a store with `tail`, so with code splitting they load on first use only.',
      ].join(' '),
      tables: [],
      extra: [table],
      targets: [
        target(
          `loaded at start, gzipped, ≤ ${TARGET_KIB} KiB (code splitting)`,
          kib(split.start.gz),
          '<=',
          TARGET_KIB,
          `${formatBytes(split.start.gz)} gzipped (${formatBytes(split.start.min)} minified). ` +
            `Where the ${formatBytes(total)} of minified source at start come from (bundled from src/): ${top}. ` +
            'Most are features the app uses (publish and its checks, the trie, the store and replay, dedup, the limiter, ' +
            'bounded subscriptions) or the error messages that name the option and the value: with every string of 30 ' +
            `characters or more emptied (bundled from src/), the start would be about ${formatBytes(shortGz)} gzipped, ` +
            `so the messages are about ${formatBytes(split.start.gz - shortGz)} of it and code the rest. ` +
            `The modules this app never runs (${UNUSED_BY_APP.join(', ')}) but the bus imports are about ` +
            `${formatBytes(split.start.gz - withoutUnused.unused)}: replaced by stubs the start is ${formatBytes(withoutUnused.unused)}, ` +
            `and without them and the messages ${formatBytes(withoutUnused.both)}. Floor: even then the target needs code ` +
            'this app uses (publish and its checks, the trie, the store and replay, dedup, the limiter) left out.',
          ' KiB',
        ),
      ],
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
