// busline/sse in a browser TypeScript project: the built declarations (dist/sse.d.ts and what
// they import) compile with the DOM library and no @types/node, strict, skipLibCheck off. They
// used to import node:http for createSSEHandler; now they name structural types, so a page
// using sseEvents (or a Worker using sseStream) needs nothing of Node's. Needs `npx tsup` first.
import { join, resolve } from 'node:path';
import ts from 'typescript';
import { expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');
/** Inside the package, so `busline/sse` resolves through its own exports map to dist/. */
const consumerPath = join(root, 'test/sse/browser-consumer.ts');

const consumer = `
import { EventBus } from 'busline';
import { type SSEEventsOptions, sseEvents, sseStream, UnexpectedResponseError } from 'busline/sse';

type Events = { 'task.created': { title: string }; 'task.done': { ok: boolean } };
const options = { pattern: 'task.*', headers: { authorization: 'Bearer x' } } satisfies SSEEventsOptions<'task.*'>;
export async function page(list: HTMLUListElement): Promise<void> {
  try {
    for await (const event of sseEvents<Events, 'task.*'>('/events', options)) {
      const item = document.createElement('li');
      item.textContent = event.type === 'task.created' ? event.data.title : String(event.data.ok);
      list.append(item);
    }
  } catch (error) {
    if (error instanceof UnexpectedResponseError) console.log(error.status);
  }
}
export function worker(request: Request): Response {
  const bus = new EventBus<Events>();
  return new Response(sseStream(bus, { pattern: 'task.*', lastEventId: request.headers.get('last-event-id') }));
}
`;

it('compiles a page and a Worker using busline/sse with lib DOM and no @types/node', () => {
  const options: ts.CompilerOptions = {
    strict: true,
    skipLibCheck: false,
    noEmit: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    lib: ['lib.es2022.d.ts', 'lib.dom.d.ts', 'lib.dom.iterable.d.ts', 'lib.esnext.disposable.d.ts'],
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const readFile = host.readFile;
  host.readFile = (file) => (resolve(file) === consumerPath ? consumer : readFile(file));
  host.fileExists = (
    (exists) => (file: string) =>
      resolve(file) === consumerPath || exists(file)
  )(host.fileExists);
  const program = ts.createProgram([consumerPath], options, host);
  const problems = ts
    .getPreEmitDiagnostics(program)
    .map((d) => `${d.file?.fileName ?? ''}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
  expect(problems).toEqual([]);
  const loaded = program.getSourceFiles().map((file) => file.fileName);
  expect(loaded.some((file) => file.endsWith('dist/sse.d.ts'))).toBe(true);
  expect(loaded.filter((file) => file.includes('@types/node'))).toEqual([]);
});
