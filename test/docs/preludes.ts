// Named preludes for doc code blocks that are fragments (docs/writing-docs.md): a block
// annotated `<!-- check: prelude=bus,signal -->` is compiled with these in front of it, in
// that order. A prelude provides exactly the names its `about` lists; any other import it
// needs is aliased with its own prefix, so that it cannot clash with the block's imports.
import type { Prelude } from './block-checker.js';

export const PRELUDES: Readonly<Record<string, Prelude>> = {
  bus: {
    about: '`bus`: an `EventBus` with the default memory store and no event map',
    code: `
import { EventBus as Bus_EventBus } from 'busline';
const bus = new Bus_EventBus();`,
    runnable: true,
  },
  signal: {
    about: '`signal`: an `AbortSignal` (never aborted)',
    code: 'const signal = new AbortController().signal;',
    runnable: true,
  },
  handler: {
    about: '`handler`: a handler for any event, `(event: StoredEvent) => void`',
    code: "const handler = (event: import('busline').StoredEvent): void => console.log(event.type);",
    runnable: true,
  },
  id: {
    about: '`id`: an event id (a string)',
    code: "const id = 'order-7:created';",
    runnable: true,
  },
  'run-task': {
    about: '`runTask(data)`: the application work a consumer does, `(data: unknown) => Promise<void>`',
    code: 'const runTask = async (_data: unknown): Promise<void> => {};',
    runnable: true,
  },
  redis: {
    about:
      "`client`: the connected node-redis client of docs/redis.md's first block; `store`: a `RedisEventStore` on it",
    code: `
import type { RedisEventStore as Redis_RedisEventStore } from 'busline/redis';
import type { createClient as Redis_createClient } from 'redis';
declare const client: Awaited<ReturnType<ReturnType<typeof Redis_createClient>['connect']>>;
declare const store: Redis_RedisEventStore;`,
    runnable: false,
  },
  'sse-app': {
    about:
      "docs/sse.md's imports (`createSSEHandler`, `formatSSE`, `sseStream`, node:http's `http`) and the application's own `team`, `userOf(req)` and `other(req, res)`",
    code: `
import { createSSEHandler, formatSSE, sseStream } from 'busline/sse';
import http from 'node:http';
const team: string = 'core';
const userOf = (req: http.IncomingMessage): string => String(req.headers['x-user']);
const other = (_req: http.IncomingMessage, res: http.ServerResponse): void => void res.end();`,
    runnable: true,
  },
  'testing-handlers': {
    about:
      "what docs/testing.md's excerpt of examples/testing-handlers uses: `EventBus`, `MemoryEventStore`, `createFakeClock`, `recordEvents`, vitest's `expect`, the example's `escalateRepeatedFailures` and `JobEvents`, and the test's `fail(job)`, which publishes `job.failed` on the block's `bus`",
    code: `
import { EventBus, MemoryEventStore } from 'busline';
import { createFakeClock, recordEvents } from 'busline/testing';
import { expect } from 'vitest';
import { escalateRepeatedFailures, type JobEvents } from '../../../examples/testing-handlers/escalation.js';
const fail = (job: string) => bus.publish({ type: 'job.failed', data: { job, reason: 'exit 1' } });`,
    runnable: true,
  },
};

/** The reader's own modules that blocks import (`./my-store.js`), as files of test/docs/blocks. */
export const STUBS: Readonly<Record<string, string>> = {
  // docs/stores.md: the adapter a reader writes and tests with describeEventStore.
  'my-store.ts': `
import type { EventStore } from 'busline';
export declare const MyStore: new (options: { maxEventsPerStream?: number }) => EventStore;`,
  // docs/recipes.md: the handler module of "A unit test for a handler", as its test imports it.
  'welcome.ts': `
import type { EventBus } from 'busline';
export type UserEvents = {
  'user.signed_up': { email: string };
  'email.sent': { to: string; template: string };
};
export declare function sendWelcomeEmails(
  bus: EventBus<UserEvents>,
  send: (to: string, template: string) => Promise<void>,
): () => void;`,
};
