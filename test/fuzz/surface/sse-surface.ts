// `busline/sse`: formatSSE, sseStream, the node:http handler and the sseEvents client, every
// argument and option fuzzed.
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { EventBus } from '../../../src/index.js';
import type * as sse from '../../../src/sse/index.js';
import {
  createSSEHandler,
  formatSSE,
  type SSEHandler,
  sseEvents,
  sseStream,
  UnexpectedResponseError,
} from '../../../src/sse/index.js';
import { anyValue, hostileString, soon } from '../hostile.js';
import { fuzzInputs, type SurfaceCase } from './input-fuzz.js';

const STREAM_OPTIONS = [
  'pattern',
  'lastEventId',
  'filter',
  'heartbeatMs',
  'drainTimeoutMs',
  'retryMs',
  'signal',
  'bufferSize',
  'named',
];
const stored = { id: 'i', type: 'a.b', stream: 's', time: 0, data: 1, cursor: 'c1' };

/** Reads the first chunk (replay or preamble) or gives up soon, then cancels: what a client that leaves does. */
async function readBriefly(stream: ReadableStream<Uint8Array>): Promise<void> {
  const reader = stream.getReader();
  try {
    await soon(reader.read(), 5);
  } finally {
    await reader.cancel();
  }
}

async function withBus(test: (bus: EventBus) => Promise<void>): Promise<void> {
  const bus = new EventBus({ onError: () => {} });
  await bus.publish({ type: 'a.b', data: 1 });
  try {
    await test(bus);
  } finally {
    await bus.close({ timeoutMs: 100 });
  }
}

/** One GET through a real node:http server; resolves with the status once the head arrived. */
async function get(port: number, path: string, headers: Record<string, string>): Promise<number> {
  const { request } = await import('node:http');
  return new Promise((resolve, reject) => {
    const req = request({ port, host: '127.0.0.1', path, headers }, (res) => {
      resolve(res.statusCode ?? 0);
      res.destroy();
    });
    req.on('error', reject);
    req.end();
  });
}

/** Characters an HTTP client can send in a path or a header (others are refused before the server). */
const headerSafe = hostileString.map((s) => s.replace(/[^\x20-\x7e]/g, '').slice(0, 200));

async function fuzzHandlerRequests(): Promise<void> {
  const bus = new EventBus({ onError: () => {} });
  let pattern: unknown = 'a.*';
  const handler: SSEHandler = createSSEHandler(bus, { pattern: () => pattern as string, heartbeatMs: 0 });
  const failures: unknown[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    try {
      handler(req, res);
    } catch (error) {
      failures.push(error);
      res.destroy();
    }
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  try {
    await fc.assert(
      fc.asyncProperty(anyValue, headerSafe, headerSafe, async (perRequest, query, lastEventId) => {
        pattern = perRequest;
        const status = await get(port, `/events?lastEventId=${encodeURIComponent(query)}`, {
          'last-event-id': lastEventId,
        });
        // A bad pattern is the client's fault (400); the handler never fails (500) or throws.
        if (![200, 400].includes(status))
          throw new Error(`status ${status} for pattern ${String(perRequest)}`);
        if (failures.length > 0) throw failures[0];
        handler.stats();
      }),
      { numRuns: 60 },
    );
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await bus.close({ timeoutMs: 100 });
  }
}

const CLIENT_OPTIONS = [
  'pattern',
  'lastEventId',
  'signal',
  'headers',
  'fetch',
  'retryMs',
  'maxRetryMs',
  'idleTimeoutMs',
  'onTruncated',
];
/** Nothing listens there: the options are checked at the call, before any request. */
const NOWHERE = 'http://127.0.0.1:9/events';

/** Creates the client and ends it before its first step: only the call's checks run. */
async function createAndEnd(url: unknown, options: unknown): Promise<void> {
  await sseEvents(url as never, options as never).return!(undefined);
}

/**
 * Any body a server may send as `text/event-stream` (hostile text, or frames with hostile
 * fields): the client yields events or fails with a BuslineError, never a TypeError. The body
 * comes from the `fetch` option, as a real Response; the next attempt aborts the iteration.
 */
async function fuzzStreamBodies(): Promise<void> {
  const field = fc.constantFrom('data', 'id', 'event', 'retry', ':', 'data:{"type":"a","cursor":"c"}', '');
  const frames = fc
    .array(fc.tuple(field, hostileString, fc.constantFrom('\n', '\r', '\r\n', '\n\n')), { maxLength: 8 })
    .map((lines) => lines.map(([name, value, end]) => `${name}:${value}${end}`).join(''));
  await fuzzInputs({
    inputs: ['body', 'onTruncated'],
    arbitraries: {
      body: fc.oneof(hostileString, frames),
      onTruncated: fc.constantFrom(undefined, 'throw', 'signal'),
    },
    call: async (v) => {
      const abort = new AbortController();
      let calls = 0;
      const fetch = async (): Promise<Response> => {
        if (calls++ > 0) abort.abort();
        return new Response(String(v.body), { headers: { 'content-type': 'text/event-stream' } });
      };
      const iterator = sseEvents('http://x.test/events', {
        fetch,
        signal: abort.signal,
        retryMs: 0,
        onTruncated: v.onTruncated as 'throw',
      });
      for await (const _ of iterator);
    },
  });
}

/** Error classes: constructed with any message and options, they keep their code and name. */
const errorConstructor = (make: (message: unknown, options: unknown) => Error) => () =>
  fuzzInputs({
    inputs: ['message', 'options'],
    arbitraries: {
      message: hostileString,
      options: fc.oneof(
        hostileString,
        fc.record(
          { cause: anyValue, status: fc.integer(), contentType: fc.option(hostileString) },
          { requiredKeys: [] },
        ),
      ),
    },
    call: (v) => {
      const error = make(v.message, v.options);
      if (error.name !== error.constructor.name) throw new Error(`${error.name} lost its class`);
    },
  });

export const sseSurface: Record<keyof typeof sse, SurfaceCase> = {
  formatSSE: {
    fuzz: {
      call: async () => {
        await fuzzInputs({
          inputs: ['event', 'options'],
          valid: { event: stored },
          aliases: { event: ['cursor', 'type'], options: ['named', 'maxEventBytes'] },
          call: (v) => formatSSE(v.event as never, v.options as never),
        });
        await fuzzInputs({
          inputs: ['id', 'type', 'stream', 'time', 'data', 'meta', 'cursor'],
          valid: stored,
          call: (v) => formatSSE(v as never),
        });
        await fuzzInputs({
          inputs: ['named', 'maxEventBytes'],
          // A limit the event does not fit in refuses it: what the option is for.
          outcomes: ['EVENT_TOO_LARGE'],
          call: (v) => formatSSE(stored, v),
        });
      },
    },
  },
  sseStream: {
    fuzz: {
      call: () =>
        withBus(async (bus) => {
          await fuzzInputs({
            inputs: ['bus', 'options'],
            valid: { bus, options: { pattern: 'a.*' } },
            aliases: { options: STREAM_OPTIONS },
            call: (v) => readBriefly(sseStream(v.bus as never, v.options as never)),
          });
          await fuzzInputs({
            inputs: STREAM_OPTIONS,
            valid: { pattern: 'a.*' },
            arbitraries: { pattern: fc.oneof(anyValue, fc.array(hostileString, { maxLength: 3 })) },
            patternInputs: ['pattern'],
            call: (v) => readBriefly(sseStream(bus, v as never)),
          });
        }),
    },
  },
  createSSEHandler: {
    fuzz: {
      constructor: () =>
        withBus(async (bus) => {
          const options = [
            ...STREAM_OPTIONS.filter((o) => !['lastEventId', 'signal'].includes(o)),
            'maxConnections',
          ];
          await fuzzInputs({
            inputs: ['bus', 'options'],
            valid: { bus, options: { pattern: 'a.*' } },
            aliases: { options },
            call: (v) => createSSEHandler(v.bus as never, v.options as never).stats(),
          });
          await fuzzInputs({
            inputs: options,
            valid: { pattern: 'a.*' },
            patternInputs: ['pattern'],
            call: (v) => createSSEHandler(bus, v as never).stats(),
          });
        }),
      requests: fuzzHandlerRequests,
    },
  },
  sseEvents: {
    fuzz: {
      call: async () => {
        await fuzzInputs({
          inputs: ['url', 'options'],
          valid: { url: NOWHERE },
          aliases: { options: CLIENT_OPTIONS },
          call: (v) => createAndEnd(v.url, v.options),
        });
        await fuzzInputs({
          inputs: CLIENT_OPTIONS,
          arbitraries: { pattern: fc.oneof(anyValue, fc.array(hostileString, { maxLength: 3 })) },
          patternInputs: ['pattern'],
          call: (v) => createAndEnd(NOWHERE, v),
        });
      },
      stream: fuzzStreamBodies,
    },
  },
  UnexpectedResponseError: {
    fuzz: { constructor: errorConstructor((m, o) => new UnexpectedResponseError(m as never, o as never)) },
  },
  SSE_CLIENT_DEFAULTS: { notCallable: 'constant' },
  SSE_DEFAULTS: { notCallable: 'constant' },
  SSE_EVENTS: { notCallable: 'constant' },
  SSE_HEADERS: { notCallable: 'constant' },
};
