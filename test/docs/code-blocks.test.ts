// Every TypeScript block of README.md and docs/*.md is type-checked against the package's
// entry points, and the self-contained ones are run, so the docs cannot drift from the API.
// How to annotate a block: docs/writing-docs.md.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { InvalidPatternError } from '../../src/index.js';
import tsupConfig from '../../tsup.config.js';
import {
  type BlockModule,
  blockModule,
  type CheckerSetup,
  runnableText,
  typeCheckBlocks,
} from './block-checker.js';
import { type DocBlock, extractBlocks, extractDocBlocks } from './doc-blocks.js';
import { PRELUDES, STUBS } from './preludes.js';

const root = resolve(import.meta.dirname, '../..');

/** README.md and docs/*.md, except the generated ones (benchmarks.md, and docs/api/ is a folder). */
const DOC_FILES = [
  'README.md',
  ...readdirSync(join(root, 'docs'))
    .filter((name) => name.endsWith('.md') && name !== 'benchmarks.md')
    .sort()
    .map((name) => `docs/${name}`),
];

/** So that the extractor cannot silently find nothing: raise it as blocks are added. */
const MIN_CHECKED_BLOCKS = 30;

/** `busline/x` → the src file tsup builds `dist/x.*` from, following package.json's exports map. */
function sourceEntries(): Record<string, string> {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    name: string;
    exports: Record<string, { import?: { types?: string } }>;
  };
  const configs = Array.isArray(tsupConfig) ? tsupConfig : [tsupConfig];
  const entry = (configs[0] as { entry: Record<string, string> }).entry;
  const modules: Record<string, string> = {};
  for (const [subpath, target] of Object.entries(pkg.exports)) {
    const types = target.import?.types;
    if (!types) continue;
    const source = entry[basename(types, '.d.ts')];
    if (!source) throw new Error(`no tsup entry builds ${types} (package.json exports "${subpath}")`);
    modules[subpath === '.' ? pkg.name : `${pkg.name}/${subpath.slice(2)}`] = resolve(root, source);
  }
  return modules;
}

const setup: CheckerSetup = { root, preludes: PRELUDES, modules: sourceEntries(), stubs: STUBS };
const { blocks, problems } = extractDocBlocks(root, DOC_FILES);
const checked = blocks.filter((block) => block.check.kind === 'check');
const name = (block: DocBlock) => `${block.file}:${block.line}`;

/** Synthetic blocks fed to the same Program: the checker must reject them. */
const NEGATIVE = extractBlocks(
  'negative.md',
  [
    '```ts',
    "import { EventBus } from 'busline';",
    "const bus = new EventBus<{ 'task.created': { id: string } }>();",
    "await bus.publish({ type: 'task.created', data: { id: 42 } });",
    '```',
    '<!-- check: prelude=bus -->',
    '```ts',
    "import { sseStream } from 'busline/sse';",
    "sseStream(bus, { pattern: 'task.*', heartbeat: 15_000 });",
    '```',
    '```ts',
    "import { NoSuchThing } from 'busline/redis';",
    '```',
  ].join('\n'),
).blocks;

const modules = new Map<DocBlock, BlockModule | string>(
  [...checked, ...NEGATIVE].map((block) => [block, blockModule(block, setup)]),
);
let errors: Map<BlockModule, string[]>;

beforeAll(() => {
  const valid = [...modules.values()].filter((module): module is BlockModule => typeof module !== 'string');
  errors = typeCheckBlocks(valid, setup);
}, 120_000);

function errorsOf(block: DocBlock): string[] {
  const module = modules.get(block)!;
  return typeof module === 'string' ? [module] : errors.get(module)!;
}

describe('doc code blocks', () => {
  it(`finds at least ${MIN_CHECKED_BLOCKS} blocks to check in ${DOC_FILES.length} files`, () => {
    expect(DOC_FILES).toContain('docs/guide.md');
    expect(checked.length).toBeGreaterThanOrEqual(MIN_CHECKED_BLOCKS);
  });

  it('has only well-formed check annotations', () => {
    expect(problems).toEqual([]);
  });

  it.each(checked.map((block) => [name(block), block] as const))('%s type-checks', (_, block) => {
    expect(errorsOf(block)).toEqual([]);
  });

  it('rejects a wrong data type, an unknown option and an unknown export, at the doc line', () => {
    const [wrongData, wrongOption, unknownExport] = NEGATIVE.map(errorsOf);
    expect(wrongData).toEqual([
      expect.stringMatching(/^negative\.md:4:\d+ TS2322: Type 'number' is not assignable/),
    ]);
    expect(wrongOption).toEqual([expect.stringMatching(/^negative\.md:9:\d+ TS2561: .*'heartbeat'/)]);
    expect(unknownExport).toEqual([expect.stringMatching(/^negative\.md:12:\d+ TS2305: .*'NoSuchThing'/)]);
  });
});

describe('doc code blocks that run', () => {
  const runnable = checked.filter((block) => block.check.kind === 'check' && block.check.run);
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'busline-doc-blocks-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** Imports the block from a temporary file, its specifiers made absolute; resolves when it has run. */
  async function run(block: DocBlock): Promise<void> {
    const module = modules.get(block) ?? blockModule(block, setup);
    if (typeof module === 'string') throw new Error(module);
    const file = join(dir, basename(module.fileName));
    writeFileSync(file, runnableText(module, setup));
    // console.dir too: OpenTelemetry's console exporters print with it (docs/observability.md).
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    const inspect = vi.spyOn(console, 'dir').mockImplementation(() => {});
    try {
      await import(pathToFileURL(file).href);
    } finally {
      log.mockRestore();
      inspect.mockRestore();
    }
  }

  it.each(runnable.map((block) => [name(block), block] as const))('%s runs', async (_, block) => {
    expect(errorsOf(block)).toEqual([]);
    await run(block);
  });

  it('fails when a block throws, with the preludes and imports it would run with', async () => {
    const [throwing] = extractBlocks(
      'negative-run.md',
      [
        '<!-- check: prelude=bus run -->',
        '```ts',
        "import { InvalidPatternError } from 'busline';",
        "bus.on('task*', () => {});",
        '```',
      ].join('\n'),
    ).blocks;
    await expect(run(throwing!)).rejects.toThrow(InvalidPatternError);
  });
});
