import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');

/** Runs a script in a fresh Node process from the package root, as a user's program would. */
function run(args: string[]): string {
  return execFileSync(process.execPath, args, { cwd: root, encoding: 'utf8' });
}

const program = `
  const cursorBus = new EventBus();
  const { cursor } = await cursorBus.publish({ type: 'probe', data: null });
  if (!/^[0-9a-f]{10}-\\d{16}$/.test(cursor)) throw new Error('bad cursor from the built store: ' + cursor);
  const bus = new EventBus({ store: null });
  const seen = [];
  bus.on('task.*', (event) => seen.push(event.type));
  await bus.publish({ type: 'task.created', data: { id: 1 } });
  await bus.publish({ type: 'user.created', data: { id: 2 } });
  console.log(JSON.stringify({ seen, error: new InvalidPatternError('x', 'y').code }));
`;

const crossEntry = `
  let sameClass = false;
  try {
    new RedisEventStore({});
  } catch (error) {
    sameClass = error instanceof BuslineError && error.code === 'INVALID_OPTION';
  }
  console.log(JSON.stringify({ sameClass }));
`;

describe('the built package', () => {
  it('shares error classes between entry points, in ESM and in CJS', () => {
    const esm = run([
      '--input-type=module',
      '-e',
      `import { BuslineError } from 'busline'; import { RedisEventStore } from 'busline/redis'; ${crossEntry}`,
    ]);
    const cjs = run([
      '-e',
      `const { BuslineError } = require('busline'); const { RedisEventStore } = require('busline/redis'); ${crossEntry}`,
    ]);
    expect(JSON.parse(esm)).toEqual({ sameClass: true });
    expect(JSON.parse(cjs)).toEqual({ sameClass: true });
  });

  it('busline/otel traces a bus of busline, in ESM and in CJS', () => {
    const traced = `
      const tracerProvider = new BasicTracerProvider();
      const bus = new EventBus({ store: null, telemetry: openTelemetry({ tracerProvider }) });
      let meta;
      bus.on('a', (event) => { meta = event.meta; });
      await bus.publish({ type: 'a', data: 1 });
      console.log(JSON.stringify(meta));
    `;
    const esm = run([
      '--input-type=module',
      '-e',
      `import { EventBus } from 'busline'; import { openTelemetry } from 'busline/otel';
       import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base'; ${traced}`,
    ]);
    const cjs = run([
      '-e',
      `const { EventBus } = require('busline'); const { openTelemetry } = require('busline/otel');
       const { BasicTracerProvider } = require('@opentelemetry/sdk-trace-base'); (async () => { ${traced} })();`,
    ]);
    for (const out of [esm, cjs])
      expect(JSON.parse(out)).toEqual({
        traceparent: expect.stringMatching(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/),
      });
  });

  it('has been built (npm test builds before it runs vitest)', () => {
    expect(existsSync(resolve(root, 'dist/index.js')), 'run `npm run build` first').toBe(true);
    expect(existsSync(resolve(root, 'dist/index.cjs')), 'run `npm run build` first').toBe(true);
  });

  it('works when imported as ESM through the exports map', () => {
    const out = run([
      '--input-type=module',
      '-e',
      `import { EventBus, InvalidPatternError } from 'busline'; ${program}`,
    ]);
    expect(JSON.parse(out)).toEqual({ seen: ['task.created'], error: 'INVALID_PATTERN' });
  });

  it('works when required as CommonJS through the exports map', () => {
    const out = run([
      '-e',
      `const { EventBus, InvalidPatternError } = require('busline'); (async () => { ${program} })();`,
    ]);
    expect(JSON.parse(out)).toEqual({ seen: ['task.created'], error: 'INVALID_PATTERN' });
  });
});
