import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { createClient } from 'redis';
import { afterAll, expect, it } from 'vitest';

/** Runs the README's commands: two workers, the enqueuer, then the dead-letter tool. */
const here = import.meta.dirname;
const prefix = `busline-jobs-test-${randomUUID()}`;
const env = { ...process.env, BUSLINE_PREFIX: prefix };
interface Running {
  child: ChildProcess;
  exited: Promise<number | null>;
  printed(test: (out: string) => boolean, what: string): Promise<void>;
  output(): string;
}
const started: Running[] = [];

function run(script: string, args: string[] = []): Running {
  const child = spawn(process.execPath, ['--import', 'tsx', resolve(here, script), ...args], { env });
  let output = '';
  child.stdout.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr.on('data', (chunk) => {
    output += chunk;
  });
  const exited = new Promise<number | null>((done) => child.on('exit', done));
  // Polled, not tied to this child's output: the condition may be about the others too.
  const printed = (test: (out: string) => boolean, what: string) =>
    new Promise<void>((done, fail) => {
      const deadline = Date.now() + 30_000;
      const timer = setInterval(() => {
        if (test(output)) {
          clearInterval(timer);
          done();
        } else if (Date.now() > deadline) {
          clearInterval(timer);
          fail(new Error(`no ${what} in: ${output}`));
        }
      }, 20);
    });
  const handle: Running = { child, exited, printed, output: () => output };
  started.push(handle);
  return handle;
}

afterAll(async () => {
  for (const { child } of started) if (child.exitCode === null) child.kill('SIGKILL');
  const client = await createClient({ url: 'redis://127.0.0.1:6379' }).connect();
  const keys = await client.keys(`{${prefix}}*`);
  if (keys.length > 0) await client.del(keys);
  await client.quit();
});

const doneJobs = (out: string) => [...out.matchAll(/done job (\d+)/g)].map((m) => Number(m[1]));

it('two workers share the jobs once each; the poison job ends in the dead letters after 3 deliveries, and again after a redrive', async () => {
  const workers = [run('worker.ts', ['w1']), run('worker.ts', ['w2'])];
  await Promise.all(workers.map((w) => w.printed((out) => out.includes('ready'), '"ready"')));
  const enqueue = run('enqueue.ts', ['10']);
  expect(await enqueue.exited).toBe(0);
  expect(enqueue.output()).toContain('enqueued 10 jobs');

  const allDone = () => workers.flatMap((w) => doneJobs(w.output()));
  await workers[0]!.printed(() => allDone().length >= 9, 'nine done jobs');

  // The poison job: 3 deliveries (backoff 100 ms, then 200 ms), then the dead letters.
  let listed = '';
  for (let attempt = 0; attempt < 50 && !listed.includes('dead: job'); attempt++) {
    const tool = run('dead-letters.ts');
    expect(await tool.exited).toBe(0);
    listed = tool.output();
  }
  expect(listed).toContain('dead: job {"n":3,"poison":true} after 3 deliveries: cannot render job 3');

  // Redriven: three fresh deliveries, and it is back in the dead letters.
  const redrive = run('dead-letters.ts', ['--redrive']);
  expect(await redrive.exited).toBe(0);
  expect(redrive.output()).toContain('redriven: 1');
  const failuresOf3 = () =>
    workers.flatMap((w) => w.output().match(/attempt failed for job \{"n":3/g) ?? []).length;
  await workers[0]!.printed(() => failuresOf3() === 6, 'six failed attempts of job 3');

  for (const w of workers) w.child.kill('SIGINT');
  expect(await Promise.all(workers.map((w) => w.exited))).toEqual([0, 0]);
  for (const w of workers) expect(w.output()).toMatch(/closed after \d+ jobs/);
  expect(allDone().sort((a, b) => a - b)).toEqual([1, 2, 4, 5, 6, 7, 8, 9, 10]); // each once
  expect(failuresOf3()).toBe(6);
}, 60_000);
