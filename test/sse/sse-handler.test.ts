import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { EventBus, type Subscription } from '../../src/index.js';
import { createSSEHandler, type SSEHandlerOptions } from '../../src/sse/index.js';
import { destroyClients, request } from './raw-http-client.js';

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

/** A real node:http server around the handler; `responses` lets tests look at server-side buffers. */
async function serve(bus: EventBus, options: SSEHandlerOptions) {
  const handler = createSSEHandler(bus, options);
  const responses: ServerResponse[] = [];
  const server = createServer((req, res) => {
    responses.push(res);
    handler(req, res);
  });
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { port: (server.address() as AddressInfo).port, responses };
}

describe('createSSEHandler', () => {
  it('answers with event-stream headers, the retry field and live events', async () => {
    const bus = new EventBus();
    const { port } = await serve(bus, { pattern: 'task.*', retryMs: 250 });
    const res = await request(port, '/events');
    expect(res.head).toMatch(/^HTTP\/1\.1 200/);
    expect(res.head).toMatch(/\r\ncontent-type: text\/event-stream\r\n/i);
    expect(res.head).toMatch(/\r\ncache-control: no-cache\r\n/i);
    expect(res.head).toMatch(/\r\nconnection: keep-alive\r\n/i);
    expect(res.head).toMatch(/\r\nx-accel-buffering: no\r\n/i);
    await bus.publish({ type: 'task.created', data: { title: 'a' } });
    await vi.waitFor(() => expect(res.body.busEvents).toHaveLength(1));
    expect(res.body.parsed.retry).toBe(250);
    expect(res.body.busEvents[0]).toMatchObject({ type: 'task.created', data: { title: 'a' } });
  });

  it('resumes after the Last-Event-ID header, and after ?lastEventId= when there is no header', async () => {
    const bus = new EventBus();
    const cursors = [];
    for (let n = 1; n <= 5; n++) cursors.push((await bus.publish({ type: 'tick', data: n })).cursor!);
    const { port } = await serve(bus, { pattern: 'tick' });
    const byHeader = await request(port, '/events', { 'Last-Event-ID': cursors[1]! });
    const byQuery = await request(port, `/events?lastEventId=${encodeURIComponent(cursors[3]!)}`);
    // The header wins over the query (the browser's own id is newer than the page's URL).
    const both = await request(port, `/events?lastEventId=${encodeURIComponent(cursors[0]!)}`, {
      'Last-Event-ID': cursors[2]!,
    });
    await bus.publish({ type: 'tick', data: 6 });
    await vi.waitFor(() => expect(byHeader.body.busEvents.map((e) => e.data)).toEqual([3, 4, 5, 6]));
    await vi.waitFor(() => expect(byQuery.body.busEvents.map((e) => e.data)).toEqual([5, 6]));
    await vi.waitFor(() => expect(both.body.busEvents.map((e) => e.data)).toEqual([4, 5, 6]));
  });

  it('takes the pattern and the filter from the request; a bad pattern answers 400 without subscribing', async () => {
    const bus = new EventBus();
    const { port } = await serve(bus, {
      pattern: (req) => new URL(req.url!, 'http://x').searchParams.get('pattern') ?? '**',
      filter: (event, req: IncomingMessage) => event.meta?.user === req.headers['x-user'],
    });
    const bad = await request(port, '/events?pattern=task*');
    expect(bad.head).toMatch(/^HTTP\/1\.1 400/);
    await bad.ended;
    expect(bad.body.text).toContain('Invalid pattern "task*"');
    const good = await request(port, '/events?pattern=job.*', { 'x-user': 'ada' });
    await bus.publish({ type: 'job.done', data: 1, meta: { user: 'bob' } });
    await bus.publish({ type: 'task.done', data: 2, meta: { user: 'ada' } });
    await bus.publish({ type: 'job.done', data: 3, meta: { user: 'ada' } });
    await vi.waitFor(() => expect(good.body.busEvents.map((e) => e.data)).toEqual([3]));
    expect(bus.stats().subscriptions).toBe(1);
  });

  it('refuses bad options when created, not per request', () => {
    const bus = new EventBus();
    expect(() => createSSEHandler(bus, { pattern: 'a..b' })).toThrow(
      expect.objectContaining({ code: 'INVALID_PATTERN' }),
    );
    expect(() => createSSEHandler(bus, { pattern: '**', heartbeatMs: -5 })).toThrow(/heartbeatMs/);
  });

  it('releases the subscription when the client disconnects', async () => {
    const bus = new EventBus();
    const { port } = await serve(bus, { pattern: '**' });
    const res = await request(port, '/events');
    await vi.waitFor(() => expect(bus.stats().subscriptions).toBe(1));
    res.socket.destroy();
    await vi.waitFor(() => expect(bus.stats().subscriptions).toBe(0));
  });

  it('waits for drain when the client reads slowly: server memory stays bounded, and the client gets every event', async () => {
    const bus = new EventBus({ dedup: false, onError: () => {} });
    const subscribe = vi.spyOn(bus, 'subscribe');
    const bufferSize = 32;
    const { port, responses } = await serve(bus, { pattern: 'blob', bufferSize });
    const res = await request(port, '/events');
    await vi.waitFor(() => expect(subscribe).toHaveBeenCalledTimes(1));
    const subscription = subscribe.mock.results[0]!.value as Subscription<unknown>;
    const response = responses[0]!;
    // The client stops reading; 8 KiB events pour in until the kernel buffers and then the
    // subscription buffer are full.
    res.socket.pause();
    const payload = 'x'.repeat(8 * 1024);
    let published = 0;
    let mostBuffered = 0;
    let mostQueued = 0;
    // Until the kernel buffers and the response's queue are full, then enough to fill the
    // subscription buffer many times over.
    let afterFull = 0;
    while (afterFull < 200 && published < 20_000) {
      if (response.writableLength >= response.writableHighWaterMark) afterFull++;
      await bus.publish({ type: 'blob', data: { n: ++published, payload } });
      await new Promise<void>((resolve) => setImmediate(resolve));
      mostBuffered = Math.max(mostBuffered, subscription.stats().buffered);
      mostQueued = Math.max(mostQueued, response.writableLength);
    }
    // The subscription caught up from the store instead of dropping or ending (regression #13.10).
    expect(subscription.stats()).toMatchObject({ state: 'open', overflow: 'catch-up', dropped: 0 });
    expect(mostBuffered).toBeLessThanOrEqual(bufferSize);
    // write() said false (the queue reached the high-water mark), and the handler then waited for
    // 'drain' instead of writing on: at most one chunk (≤ 64 KiB + an event) past the mark.
    expect(mostQueued).toBeGreaterThanOrEqual(response.writableHighWaterMark);
    expect(mostQueued).toBeLessThan(response.writableHighWaterMark + 80 * 1024);
    // The client reads again: every event, in order, once, then live.
    res.socket.resume();
    await bus.publish({ type: 'blob', data: { n: ++published, payload: '' } });
    await vi.waitFor(() => expect(res.body.busEvents.length).toBe(published), { timeout: 10_000 });
    const received = res.body.busEvents.map((e) => (e.data as { n: number }).n);
    expect(received).toEqual(Array.from({ length: published }, (_, i) => i + 1));
  });
});
