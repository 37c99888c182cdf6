// sseEvents against a real node:http server (createSSEHandler): typed events in order, resume
// after dropped connections with every event once, the server's retry:, headers, and ending.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { EventBus, type StoredEvent } from '../../src/index.js';
import { sseEvents } from '../../src/sse/index.js';
import { type ClientTestServer, startClientTestServer } from './client-test-server.js';

type Events = { 'task.created': { n: number }; 'task.done': { n: number }; 'user.login': { n: number } };

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(options: Parameters<typeof startClientTestServer>[1] = {}) {
  const bus = new EventBus<Events>();
  const server = await startClientTestServer(bus as unknown as EventBus, { retryMs: 20, ...options });
  cleanups.push(
    () => bus.close(),
    () => server.close(),
  );
  return { bus, server };
}

/** The next `count` items of the iteration (it stays open). */
async function take<T>(iterator: AsyncIterator<T>, count: number): Promise<T[]> {
  const out: T[] = [];
  while (out.length < count) {
    const step = await iterator.next();
    if (step.done) throw new Error(`the iteration ended after ${out.length} of ${count} items`);
    out.push(step.value);
  }
  return out;
}

/** Resolves once the server has seen `count` requests. */
const requested = (server: ClientTestServer, count: number) =>
  vi.waitFor(() => expect(server.requests.length).toBeGreaterThanOrEqual(count), { timeout: 5000 });

describe('sseEvents', () => {
  it('yields the typed events the patterns match, in order, sending each pattern in the query', async () => {
    const { bus, server } = await setup();
    const events = sseEvents<Events, 'task.created' | 'task.done'>(server.url, {
      pattern: ['task.created', 'task.done'],
    });
    const first = events.next();
    await requested(server, 1);
    expect(new URL(server.requests[0]!.url, 'http://x').searchParams.getAll('pattern')).toEqual([
      'task.created',
      'task.done',
    ]);
    expect(server.requests[0]!.headers.accept).toBe('text/event-stream');
    await vi.waitFor(() => expect(server.handler.stats().connections).toBe(1));
    await bus.publish({ type: 'user.login', data: { n: 0 } });
    for (let n = 1; n <= 4; n++)
      await bus.publish({ type: n % 2 ? 'task.created' : 'task.done', data: { n } });
    const received = [(await first).value!, ...(await take(events, 3))];
    expect(received.map((e) => [e.type, e.data.n])).toEqual([
      ['task.created', 1],
      ['task.done', 2],
      ['task.created', 3],
      ['task.done', 4],
    ]);
    expect(received.every((e) => typeof e.cursor === 'string' && typeof e.time === 'number')).toBe(true);
    await events.return!(undefined);
  });

  it('resumes after the server drops the connection, again and again: every event once, in order', async () => {
    const { bus, server } = await setup();
    const events = sseEvents<Events>(server.url, { pattern: 'task.*' });
    const received: StoredEvent[] = [];
    const reading = (async () => {
      for await (const event of events) {
        received.push(event);
        if (received.length === 40) break;
      }
    })();
    await vi.waitFor(() => expect(server.handler.stats().connections).toBe(1));
    for (let round = 0; round < 4; round++) {
      // Five while connected, five while the client is away: the resume must replay those.
      for (let i = 0; i < 5; i++) await bus.publish({ type: 'task.created', data: { n: round * 10 + i } });
      await vi.waitFor(() => expect(received.length).toBe(round * 10 + 5));
      server.dropAll();
      for (let i = 5; i < 10; i++) await bus.publish({ type: 'task.created', data: { n: round * 10 + i } });
      await vi.waitFor(() => expect(received.length).toBe(round * 10 + 10), { timeout: 5000 });
    }
    await reading;
    expect(received.map((e) => (e.data as { n: number }).n)).toEqual([...Array(40).keys()]);
    // Each reconnect resumed after the last cursor the client had been given.
    const resumes = server.requests.slice(1).map((r) => r.lastEventId);
    expect(resumes).toEqual([4, 14, 24, 34].map((i) => received[i]!.cursor));
    await vi.waitFor(() => expect(server.handler.stats().connections).toBe(0));
  });

  it("waits the server's retry: before reconnecting, not its own default", async () => {
    const { bus, server } = await setup({ retryMs: 300 });
    // The client's default (10 s) would time the test out: the server's 300 ms must win.
    const events = sseEvents<Events>(server.url, { retryMs: 10_000 });
    const first = events.next();
    await vi.waitFor(() => expect(server.handler.stats().connections).toBe(1));
    await bus.publish({ type: 'task.created', data: { n: 1 } });
    expect((await first).value!.data).toEqual({ n: 1 });
    const droppedAt = Date.now();
    server.dropAll();
    await bus.publish({ type: 'task.created', data: { n: 2 } });
    expect((await events.next()).value!.data).toEqual({ n: 2 });
    expect(server.requests[1]!.at - droppedAt).toBeGreaterThanOrEqual(300 - 5);
    await events.return!(undefined);
  });

  it('sends the headers with every attempt, calling a headers function each time (a token renewed)', async () => {
    const { bus, server } = await setup();
    let token = 0;
    const events = sseEvents<Events>(server.url, {
      headers: () => ({ authorization: `Bearer t${++token}` }),
    });
    const first = events.next();
    await vi.waitFor(() => expect(server.handler.stats().connections).toBe(1));
    await bus.publish({ type: 'task.created', data: { n: 1 } });
    await first;
    server.dropAll();
    await bus.publish({ type: 'task.created', data: { n: 2 } });
    await events.next();
    expect(server.requests.map((r) => r.headers.authorization)).toEqual(['Bearer t1', 'Bearer t2']);
    await events.return!(undefined);
  });

  it('starts after lastEventId: only the stored events after it, then live', async () => {
    const { bus, server } = await setup();
    const published = [];
    for (let n = 1; n <= 4; n++) published.push(await bus.publish({ type: 'task.created', data: { n } }));
    const cursor = (published[1] as { cursor: string }).cursor;
    const events = sseEvents<Events>(server.url, { lastEventId: cursor });
    expect((await take(events, 2)).map((e) => e.data.n)).toEqual([3, 4]);
    expect(server.requests[0]!.lastEventId).toBe(cursor);
    await events.return!(undefined);
  });

  it('breaking out of the loop, or aborting signal, cancels the request and ends quietly', async () => {
    const { bus, server } = await setup();
    const publishOnceOpen = async () => {
      await vi.waitFor(() => expect(server.handler.stats().connections).toBe(1));
      await bus.publish({ type: 'task.created', data: { n: 1 } });
    };
    void publishOnceOpen();
    for await (const event of sseEvents<Events>(server.url)) {
      expect(event.data.n).toBe(1);
      break;
    }
    await vi.waitFor(() => expect(server.handler.stats().connections).toBe(0));

    const abort = new AbortController();
    const seen: unknown[] = [];
    const looping = (async () => {
      for await (const event of sseEvents<Events>(server.url, { signal: abort.signal })) seen.push(event);
    })();
    await publishOnceOpen();
    await vi.waitFor(() => expect(seen).toHaveLength(1));
    abort.abort();
    await looping;
    await vi.waitFor(() => expect(server.handler.stats().connections).toBe(0));
    expect(server.requests).toHaveLength(2);

    // Aborted while waiting to reconnect (nothing listens there): it ends at once too.
    const down = new AbortController();
    const waiting = sseEvents<Events>('http://127.0.0.1:9/events', {
      signal: down.signal,
      retryMs: 60_000,
    }).next();
    setTimeout(() => down.abort(), 20);
    expect(await waiting).toEqual({ done: true, value: undefined });
  });
});
