// The README promises that the built type declarations work from TypeScript 5.6 on: a small
// consumer of every entry point is compiled against dist/*.d.ts and dist/*.d.cts with
// TypeScript 5.6.3 (the `typescript-5.6` devDependency), strict and with skipLibCheck off,
// under NodeNext (ESM and CommonJS) and bundler resolution. Errors count in the consumer and
// in dist/, not in @types/node or TypeScript's own lib files.
//
// Why 5.6 is the floor (found with this consumer and the tsc of each release, at 7a6d43e):
// - 5.5.4 fails: `Subscription<E> extends AsyncIterableIterator<E, undefined>` in
//   dist/event-bus-*.d.ts and .d.cts → TS2314 "Generic type 'AsyncIterableIterator<T>'
//   requires 1 type argument(s)" (5.6 gave the iterator types their TReturn and TNext), then
//   `for await` over a subscription → TS2504. 5.6.3 passes.
// - 5.4.5 fails the same way; 5.3.3 also lacks `NoInfer` (TS2304, `EventBusOptions.onError`).
// - Without @types/node a consumer needs `"lib": ["esnext.disposable"]` for
//   `Symbol.asyncDispose`; no declaration names a `node:` module (busline/sse's node:http
//   handler is typed structurally, see test/sse/browser-types.test.ts).
import { existsSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import ts from 'typescript-5.6';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');
/** Where the consumer's virtual files live: inside the package, so `busline` is a self-reference through its exports map. */
const dir = join(root, 'test/package');
const dist = join(root, 'dist/');

/** Uses every entry point, and the types that need 5.6 (the subscription's iterator) and 5.4 (`NoInfer`). */
const consumer = (asyncIteration: boolean) => `
import { EventBus, type StandardSchemaV1, type StoredEvent, type Subscription } from 'busline';
import { ioredisClient, RedisEventStore } from 'busline/redis';
import { createSSEHandler, formatSSE, sseStream } from 'busline/sse';
import { createFakeClock, describeEventStore, recordEvents } from 'busline/testing';
import { openTelemetry } from 'busline/otel';

type Events = { 'task.created': { id: string; title: string }; 'task.done': { id: string } };
const clock = createFakeClock();
const bus = new EventBus<Events>({
  clock: clock.now,
  telemetry: openTelemetry(),
  onError: (_error, context) => context.event?.type satisfies keyof Events | undefined,
});
bus.on('task.*', (event) => event.data.id.toUpperCase());
const recorder = recordEvents(bus, 'task.done');
const all: Subscription<StoredEvent> = bus.subscribe('**');
const tasks = bus.subscribe('task.*');
${
  asyncIteration
    ? `const step = await tasks.next();
if (!step.done) step.value.data.id satisfies string;
else step.value satisfies undefined;
for await (const event of tasks) if (event.type === 'task.created') event.data.title satisfies string;`
    : 'void tasks;'
}

// Types inferred from schemas, with no type argument.
const idSchema: StandardSchemaV1<unknown, { id: string }> = {
  '~standard': { version: 1, vendor: 'test', validate: (value) => ({ value: value as { id: string } }) },
};
const inferred = new EventBus({ schemas: { 'job.done': idSchema } });
inferred.on('job.done', (event) => event.data.id satisfies string);

const body: ReadableStream<Uint8Array> = sseStream(bus, { pattern: 'task.*' });
const frame: string = formatSSE(recorder.events[0]!);
const handler: (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => void =
  createSSEHandler(bus, { pattern: '**' });
void [all, body, frame, handler, RedisEventStore, ioredisClient, describeEventStore];
export {};
`;

interface Case {
  name: string;
  options: ts.CompilerOptions;
  /** File name in test/package → its text (virtual: never written). */
  files: Record<string, string>;
  /** The entry declarations of dist/ that the consumer must have resolved to. */
  entries: string[];
}

const ENTRIES = ['index', 'redis', 'sse', 'testing', 'otel'];

const strict: ts.CompilerOptions = {
  strict: true,
  skipLibCheck: false,
  noEmit: true,
  target: ts.ScriptTarget.ES2022,
  lib: ['lib.es2022.d.ts'],
  types: ['node'],
};

const cases: Case[] = [
  {
    name: 'NodeNext, ESM (dist/*.d.ts) and CommonJS (dist/*.d.cts)',
    options: {
      ...strict,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
    },
    files: { 'floor-consumer.mts': consumer(true), 'floor-consumer.cts': consumer(false) },
    entries: ENTRIES.flatMap((entry) => [`${entry}.d.ts`, `${entry}.d.cts`]),
  },
  {
    name: 'bundler',
    options: {
      ...strict,
      module: ts.ModuleKind.ESNext,
      moduleResolution: ts.ModuleResolutionKind.Bundler,
    },
    files: { 'floor-consumer.ts': consumer(true) },
    entries: ENTRIES.map((entry) => `${entry}.d.ts`),
  },
];

/**
 * Compiles the virtual files; returns the errors of the consumer and of busline's own
 * declarations (not of @types/node or the default lib: their checks are not ours to pass),
 * and the dist/ files the program used.
 */
function compile({ options, files }: Case): { errors: string[]; used: string[] } {
  const virtual = new Map(Object.entries(files).map(([name, text]) => [join(dir, name), text]));
  const host = ts.createCompilerHost(options, true);
  const { fileExists, readFile, getSourceFile } = host;
  host.fileExists = (name) => virtual.has(name) || fileExists.call(host, name);
  host.readFile = (name) => virtual.get(name) ?? readFile.call(host, name);
  host.getSourceFile = (name, languageVersion, onError, shouldCreate) => {
    const text = virtual.get(name);
    return text !== undefined
      ? ts.createSourceFile(name, text, languageVersion, true)
      : getSourceFile.call(host, name, languageVersion, onError, shouldCreate);
  };
  const program = ts.createProgram([...virtual.keys()], options, host);
  const ours = program
    .getSourceFiles()
    .filter((file) => virtual.has(file.fileName) || file.fileName.startsWith(dist));
  const diagnostics = [
    ...program.getOptionsDiagnostics(),
    ...program.getGlobalDiagnostics(),
    ...ours.flatMap((file) => [
      ...program.getSyntacticDiagnostics(file),
      ...program.getSemanticDiagnostics(file),
    ]),
  ];
  const errors = diagnostics.map((diagnostic) => {
    const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
    if (!diagnostic.file) return `TS${diagnostic.code}: ${message}`;
    const { line } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start ?? 0);
    return `${relative(root, diagnostic.file.fileName)}:${line + 1} TS${diagnostic.code}: ${message}`;
  });
  const used = ours
    .filter((file) => !virtual.has(file.fileName))
    .map((file) => relative(dist, file.fileName));
  return { errors, used };
}

describe('the built type declarations', () => {
  it('are checked with TypeScript 5.6, the floor the README states', () => {
    expect(ts.version).toMatch(/^5\.6\./);
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    expect(readme).toContain('TypeScript 5.6');
  });

  it.each(cases)('compile for a strict consumer with skipLibCheck off: $name', (floorCase) => {
    expect(existsSync(join(root, 'dist/index.d.ts')), 'run `npm run build` first').toBe(true);
    const { errors, used } = compile(floorCase);
    expect(used).toEqual(expect.arrayContaining(floorCase.entries));
    expect(errors).toEqual([]);
  });
});
