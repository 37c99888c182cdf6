import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { createClient } from 'redis';
import { afterAll, expect, it } from 'vitest';

/** Runs the README's commands: two subscriber processes, then a publisher, all on one Redis. */
const here = import.meta.dirname;
const prefix = `busline-demo-test-${randomUUID()}`;
const env = { ...process.env, BUSLINE_PREFIX: prefix };

function run(script: string, args: string[]) {
  const child = spawn(process.execPath, ['--import', 'tsx', resolve(here, script), ...args], { env });
  let output = '';
  child.stdout.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr.on('data', (chunk) => {
    output += chunk;
  });
  const exited = new Promise<number | null>((done) => child.on('exit', done));
  const printed = (text: string) =>
    new Promise<void>((done, fail) => {
      const timer = setTimeout(() => fail(new Error(`no "${text}" in: ${output}`)), 30_000);
      const check = () => {
        if (!output.includes(text)) return;
        clearTimeout(timer);
        done();
      };
      child.stdout.on('data', check);
      check();
    });
  return { child, exited, printed, output: () => output };
}

afterAll(async () => {
  const client = await createClient({ url: 'redis://127.0.0.1:6379' }).connect();
  const keys = await client.keys(`{${prefix}}*`);
  if (keys.length > 0) await client.del(keys);
  await client.quit();
});

it('two subscriber processes see what a third process publishes, filtered by their patterns', async () => {
  const orders = run('subscriber.ts', ['orders.*']);
  const everything = run('subscriber.ts', ['**']);
  await Promise.all([orders.printed('ready'), everything.printed('ready')]);
  const publisher = run('publisher.ts', ['6']);
  expect(await publisher.exited).toBe(0);
  // orders.* never sees demo.done, so it is stopped by hand once it has all three orders.
  await orders.printed('{"n":5}');
  orders.child.kill('SIGINT');
  expect(await everything.exited).toBe(0);
  const lines = (out: string) => out.split('\n').filter((l) => l.includes('] ') && !l.endsWith('ready'));
  expect(lines(orders.output()).map((l) => l.split('] ')[1])).toEqual([
    'orders.created customer-1 {"n":1}',
    'orders.created customer-0 {"n":3}',
    'orders.created customer-2 {"n":5}',
  ]);
  expect(lines(everything.output())).toHaveLength(7); // 6 events and demo.done
  await orders.exited;
}, 60_000);
