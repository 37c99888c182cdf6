import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');

/** Runs a script in a fresh Node process from the package root, as a user's program would. */
function run(args: string[]): unknown {
  return JSON.parse(execFileSync(process.execPath, args, { cwd: root, encoding: 'utf8' }));
}

// The core and busline/sse come from separate entry points: in the CommonJS build each carries
// its own copy of shared classes, so the SSE helper must not rely on `instanceof` across them.
const program = `
  const bus = new EventBus({ store: new MemoryEventStore({ maxEventsPerStream: 2 }) });
  const first = await bus.publish({ type: 'task.created', data: 1 });
  await bus.publish({ type: 'task.created', data: 2 });
  await bus.publish({ type: 'task.created', data: 3 });
  await bus.publish({ type: 'task.created', data: 4 }); // event 2, right after the first, is gone
  const reader = sseStream(bus, { pattern: 'task.*', lastEventId: first.cursor }).getReader();
  let text = '';
  while ((text.match(/^id: /gm) ?? []).length < 2) text += new TextDecoder().decode((await reader.read()).value);
  await reader.cancel();
  const events = text.match(/^event: .*$/gm);
  console.log(JSON.stringify({ events, handler: typeof createSSEHandler, frame: formatSSE({ ...first, id: 'x', type: 'a', stream: 's', time: 1, data: null }).split('\\n')[0] }));
`;

const expected = {
  events: ['event: busline.history_truncated', 'event: task.created', 'event: task.created'],
  handler: 'function',
  frame: expect.stringMatching(/^id: [0-9a-f]+-\d+$/),
};

describe('the built busline/sse entry point', () => {
  it('works when imported as ESM through the exports map', () => {
    const out = run([
      '--input-type=module',
      '-e',
      `import { EventBus, MemoryEventStore } from 'busline'; import { createSSEHandler, formatSSE, sseStream } from 'busline/sse'; ${program}`,
    ]);
    expect(out).toEqual(expected);
  });

  it('works when required as CommonJS, HistoryTruncated from the core entry included', () => {
    const out = run([
      '-e',
      `const { EventBus, MemoryEventStore } = require('busline'); const { createSSEHandler, formatSSE, sseStream } = require('busline/sse'); (async () => { ${program} })();`,
    ]);
    expect(out).toEqual(expected);
  });
});
