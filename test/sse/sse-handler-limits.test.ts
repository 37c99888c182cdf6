import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { EventBus } from '../../src/index.js';
import {
  createSSEHandler,
  SSE_DEFAULTS,
  type SSEHandler,
  type SSEHandlerOptions,
} from '../../src/sse/index.js';
import { destroyClients, request, send } from './raw-http-client.js';

// Regression tests for the security review's finding 7 (security-poc/sse-stuck.mjs): SSE
// clients that never read were never disconnected, each pinning buffers, with no cap.

const servers: Server[] = [];
afterEach(async () => {
  destroyClients();
  await Promise.all(
    servers.splice(0).map((server) => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(resolve));
    }),
  );
});

// A Unix socket, not TCP: the kernel queues about 200 KiB for a client that stopped reading,
// where loopback TCP autotunes to several MiB per connection (a gigabyte for 200 clients).
let socketCount = 0;
async function serve(
  bus: EventBus,
  options: SSEHandlerOptions,
  route: (handler: SSEHandler, req: IncomingMessage, res: ServerResponse) => void = (h, q, s) => h(q, s),
) {
  const handler = createSSEHandler(bus, options);
  const responses: ServerResponse[] = [];
  const server = createServer((req, res) => {
    responses.push(res);
    route(handler, req, res);
  });
  servers.push(server);
  const path = join(tmpdir(), `busline-sse-${process.pid}-${++socketCount}.sock`);
  server.listen(path);
  await once(server, 'listening');
  return { path, handler, responses };
}

/** A client that sends its request, then never reads a byte (the review's proof: `socket.pause()`). */
function stuckClient(path: string): { socket: Socket; closed: Promise<void> } {
  const socket = send(path, '/events');
  socket.pause();
  socket.on('error', () => {});
  return { socket, closed: once(socket, 'close').then(() => {}) };
}

/** `gc()` from a Node started without --expose-gc. */
function collector(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

/** Bytes in ArrayBuffers after a full collection: where queued response chunks live. */
function bufferBytes(gc: () => void): number {
  gc();
  return process.memoryUsage().arrayBuffers;
}

const MiB = 1024 * 1024;

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('createSSEHandler limits', () => {
  it('disconnects 200 clients that stop reading within drainTimeoutMs and frees what they held; a reading client is unaffected', async () => {
    const bus = new EventBus({ dedup: false, onError: () => {} });
    // drainTimeoutMs defaults to 2 × heartbeatMs: 100 ms here.
    const { path, handler, responses } = await serve(bus, { pattern: '**', heartbeatMs: 50 });
    const gc = collector();
    const before = bufferBytes(gc);

    const reader = await request(path, '/events');
    const stuck = Array.from({ length: 200 }, () => stuckClient(path));
    await vi.waitFor(() => expect(handler.stats().connections).toBe(201));
    expect(bus.stats().subscriptions).toBe(201);

    // 60 KB events, as in the proof: each stuck connection fills its socket within a few.
    const blob = 'x'.repeat(60_000);
    const events = 20;
    let mostQueued = 0;
    for (let n = 1; n <= events; n++) {
      await bus.publish({ type: 'big.event', data: { n, blob } });
      await new Promise<void>((resolve) => setImmediate(resolve));
      for (const res of responses) mostQueued = Math.max(mostQueued, res.writableLength);
    }
    // Per connection, the response never queues more than its high-water mark plus one chunk.
    const highWaterMark = responses[0]!.writableHighWaterMark;
    expect(mostQueued).toBeGreaterThanOrEqual(highWaterMark);
    expect(mostQueued).toBeLessThan(highWaterMark + SSE_DEFAULTS.maxChunkChars + 64 * 1024);

    // The server closes each stuck connection and releases its subscription.
    await vi.waitFor(() => expect(handler.stats()).toMatchObject({ connections: 1, drainTimeouts: 200 }));
    expect(handler.stats().refused).toBe(0);
    expect(bus.stats().subscriptions).toBe(1);
    expect(responses.slice(1).every((res) => res.destroyed)).toBe(true);
    // A paused socket cannot see the close: reading again, each finds its connection gone.
    for (const client of stuck) client.socket.resume();
    await Promise.all(stuck.map((client) => client.closed));

    // The reading client got every event, in order, and stays connected: pings keep coming.
    await vi.waitFor(() => expect(reader.body.busEvents).toHaveLength(events), { timeout: 10_000 });
    expect(reader.body.busEvents.map((e) => (e.data as { n: number }).n)).toEqual(
      Array.from({ length: events }, (_, i) => i + 1),
    );
    const pings = reader.body.parsed.comments.length;
    await vi.waitFor(() => expect(reader.body.parsed.comments.length).toBeGreaterThan(pings + 2));
    expect(reader.socket.destroyed).toBe(false);
    await bus.publish({ type: 'big.event', data: { n: events + 1, blob: '' } });
    await vi.waitFor(() => expect(reader.body.busEvents).toHaveLength(events + 1));

    // What the stuck clients held is gone. Before the fix, each kept its response queue
    // (about one 60 KB event: 11.6 MiB for the 200) for as long as it stayed connected.
    // The last buffers may be freed a little after gc() returns (background sweeping, write
    // callbacks still pending): poll rather than sample once.
    await vi.waitFor(() => expect(bufferBytes(gc) - before).toBeLessThan(2 * MiB));

    reader.socket.destroy();
    await vi.waitFor(() => expect(bus.stats().subscriptions).toBe(0));
    expect(handler.stats().connections).toBe(0);
  });

  it('answers 503 with Retry-After past maxConnections, and frees a slot whenever a connection ends', async () => {
    const bus = new EventBus();
    const { path, handler } = await serve(bus, { pattern: '**', maxConnections: 2 });
    const first = await request(path, '/events');
    const second = await request(path, '/events');
    const refused = await request(path, '/events');
    expect(refused.head).toMatch(/^HTTP\/1\.1 503/);
    expect(refused.head).toMatch(/\r\nretry-after: 5\r\n/i);
    await refused.ended;
    expect(refused.body.text).toContain('2 are open (maxConnections)');
    expect(handler.stats()).toEqual({ connections: 2, maxConnections: 2, refused: 1, drainTimeouts: 0 });
    expect(bus.stats().subscriptions).toBe(2);

    // The client leaves: its slot is free for the next one.
    first.socket.destroy();
    await vi.waitFor(() => expect(handler.stats().connections).toBe(1));
    const third = await request(path, '/events');
    expect(third.head).toMatch(/^HTTP\/1\.1 200/);
    await bus.publish({ type: 'a', data: 1 });
    await vi.waitFor(() => expect(third.body.busEvents).toHaveLength(1));

    // The server ends the streams (the bus closes): every slot is released.
    await bus.close();
    await Promise.all([second.ended, third.ended]);
    await vi.waitFor(() => expect(handler.stats().connections).toBe(0));
    expect(bus.stats().subscriptions).toBe(0);
  });

  it('subscribes nothing when the client left before the handler ran (an async route)', async () => {
    const bus = new EventBus();
    const arrived = deferred();
    const handled = deferred();
    const { path, handler } = await serve(bus, { pattern: '**' }, (h, req, res) => {
      arrived.resolve();
      // The route awaits something (say, an auth check) and the client goes away meanwhile.
      res.once('close', () => {
        h(req, res);
        handled.resolve();
      });
    });
    const socket = send(path, '/events');
    socket.on('error', () => {});
    await arrived.promise;
    socket.destroy();
    await handled.promise;
    expect(bus.stats().subscriptions).toBe(0);
    expect(handler.stats().connections).toBe(0);
  });

  it('refuses a bad maxConnections or drainTimeoutMs when created', () => {
    const bus = new EventBus();
    for (const maxConnections of [0, -1, 1.5, Number.NaN]) {
      expect(() => createSSEHandler(bus, { pattern: '**', maxConnections })).toThrow(/maxConnections/);
    }
    expect(() => createSSEHandler(bus, { pattern: '**', drainTimeoutMs: -1 })).toThrow(/drainTimeoutMs/);
    expect(createSSEHandler(bus, { pattern: '**', maxConnections: Infinity }).stats().maxConnections).toBe(
      Infinity,
    );
    expect(createSSEHandler(bus, { pattern: '**' }).stats()).toEqual({
      connections: 0,
      maxConnections: 1000,
      refused: 0,
      drainTimeouts: 0,
    });
  });
});
