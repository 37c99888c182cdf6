// How sseEvents ends, and when it waits instead, against real node:http servers: typed errors
// for answers that are not event streams, 503 waited out, and missing history surfaced.
import type { ServerResponse } from 'node:http';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  EventBus,
  HistoryTruncated,
  HistoryTruncatedError,
  InvalidOptionError,
  InvalidPatternError,
  MemoryEventStore,
  type StoredEvent,
} from '../../src/index.js';
import { sseEvents, UnexpectedResponseError } from '../../src/sse/index.js';
import { startClientTestServer } from './client-test-server.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function serve(bus: EventBus, route?: Parameters<typeof startClientTestServer>[2]) {
  const server = await startClientTestServer(bus, { retryMs: 20 }, route);
  cleanups.push(
    () => bus.close(),
    () => server.close(),
  );
  return server;
}

const answer =
  (status: number, headers: Record<string, string>, body = '') =>
  (res: ServerResponse) => {
    res.writeHead(status, headers);
    res.end(body);
  };

/** The error the iteration ends with (it must end with one). */
async function failure(iterator: AsyncIterator<unknown>): Promise<unknown> {
  try {
    for (;;) if ((await iterator.next()).done) return new Error('ended without an error');
  } catch (error) {
    return error;
  }
}

describe('sseEvents ends with UnexpectedResponseError for what is not an event stream, without retrying', () => {
  it.each([
    ['404', answer(404, { 'content-type': 'text/plain' }, 'no such route'), 404, /status 404/],
    ['401', answer(401, { 'www-authenticate': 'Bearer' }), 401, /status 401/],
    ['204 (the server asks the client to stop)', answer(204, {}), 204, /status 204/],
    [
      '200 text/html',
      answer(200, { 'content-type': 'text/html' }, '<p>login</p>'),
      200,
      /content-type "text\/html"/,
    ],
  ])('%s', async (_name, respond, status, message) => {
    const server = await serve(new EventBus(), (_req, res) => {
      respond(res);
      return true;
    });
    const error = await failure(sseEvents(`${server.url}?token=secret`));
    expect(error).toBeInstanceOf(UnexpectedResponseError);
    expect(error).toMatchObject({ code: 'UNEXPECTED_RESPONSE', status, name: 'UnexpectedResponseError' });
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain('secret'); // the query may hold a token
    expect(server.requests).toHaveLength(1);
  });

  it('a 200 text/event-stream whose messages are not busline events', async () => {
    const server = await serve(new EventBus(), (_req, res) => {
      answer(200, { 'content-type': 'text/event-stream; charset=utf-8' }, 'data: hello\n\n')(res);
      return true;
    });
    const error = await failure(sseEvents(server.url));
    expect(error).toBeInstanceOf(UnexpectedResponseError);
    expect((error as Error).message).toContain('"hello"');
  });
});

describe('sseEvents checks its options at the call', () => {
  it('a bad pattern throws InvalidPatternError, a relative URL outside a page InvalidOptionError', () => {
    expect(() => sseEvents('http://127.0.0.1:9/events', { pattern: 'task*' })).toThrow(InvalidPatternError);
    expect(() => sseEvents('/events')).toThrow(InvalidOptionError);
    expect(() => sseEvents('http://x.test/', { headers: { 'bad header': 'x' } })).toThrow(InvalidOptionError);
    for (const idleTimeoutMs of [-1, 1.5, Number.NaN, '45000', 2 ** 31])
      expect(() => sseEvents('http://x.test/', { idleTimeoutMs: idleTimeoutMs as number })).toThrow(
        /idleTimeoutMs/,
      );
  });
});

describe('sseEvents waits out 503 and 429', () => {
  it("waits the 503's Retry-After, then streams", async () => {
    const bus = new EventBus();
    const server = await serve(bus, (_req, res, index) => {
      if (index > 0) return false;
      answer(503, { 'retry-after': '1', 'content-type': 'text/plain' }, 'busy')(res);
      return true;
    });
    const events = sseEvents(server.url, { retryMs: 20 });
    const first = events.next();
    await vi.waitFor(() => expect(server.handler.stats().connections).toBe(1), { timeout: 5000 });
    await bus.publish({ type: 'a.b', data: 1 });
    expect((await first).value).toMatchObject({ type: 'a.b', data: 1 });
    expect(server.requests[1]!.at - server.requests[0]!.at).toBeGreaterThanOrEqual(1000 - 5);
    await events.return!(undefined);
  });

  it('backs off when a 429 names no Retry-After', async () => {
    const bus = new EventBus();
    const server = await serve(bus, (_req, res, index) => {
      if (index > 1) return false;
      answer(429, {})(res);
      return true;
    });
    const events = sseEvents(server.url, { retryMs: 0 });
    const first = events.next();
    await vi.waitFor(() => expect(server.handler.stats().connections).toBe(1), { timeout: 5000 });
    await bus.publish({ type: 'a.b', data: 1 });
    expect((await first).value).toMatchObject({ data: 1 });
    // The second failure in a row waited at least half of twice the back-off floor (250 ms).
    expect(server.requests[2]!.at - server.requests[1]!.at).toBeGreaterThanOrEqual(250 - 5);
    await events.return!(undefined);
  });
});

describe('sseEvents surfaces missing events', () => {
  /** A bus whose store keeps only the last 3 events: 10 published, the first 7 are gone. */
  async function truncatedBus(): Promise<{ bus: EventBus; cursors: string[] }> {
    const bus = new EventBus({ store: new MemoryEventStore({ maxEventsPerStream: 3 }) });
    cleanups.push(() => bus.close());
    const cursors: string[] = [];
    for (let n = 1; n <= 10; n++)
      cursors.push(((await bus.publish({ type: 'a.b', data: n })) as { cursor: string }).cursor);
    return { bus, cursors };
  }

  it("throws HistoryTruncatedError with the cursor it resumed after; 'signal' yields HistoryTruncated and goes on", async () => {
    const { bus, cursors } = await truncatedBus();
    const server = await serve(bus);
    const error = await failure(sseEvents(server.url, { lastEventId: cursors[1] }));
    expect(error).toBeInstanceOf(HistoryTruncatedError);
    expect(error).toMatchObject({ code: 'HISTORY_TRUNCATED', after: cursors[1] });

    const events = sseEvents(server.url, {
      lastEventId: (error as HistoryTruncatedError).after,
      onTruncated: 'signal',
    });
    const items = [];
    for (let i = 0; i < 4; i++) items.push((await events.next()).value);
    expect(items[0]).toBeInstanceOf(HistoryTruncated);
    expect(items[0]).toMatchObject({ after: cursors[1] });
    expect(items.slice(1).map((e) => (e as StoredEvent).data)).toEqual([8, 9, 10]);
    await events.return!(undefined);
  });

  it('a cursor the server does not know (another store, garbage) is missing history too', async () => {
    const bus = new EventBus();
    const server = await serve(bus);
    const error = await failure(sseEvents(server.url, { lastEventId: 'not-a-cursor' }));
    expect(error).toMatchObject({ code: 'HISTORY_TRUNCATED', after: 'not-a-cursor' });
  });

  it('a bus without a store cannot replay: any resume is truncated', async () => {
    const server = await serve(new EventBus({ store: null }));
    const error = await failure(sseEvents(server.url, { lastEventId: 'x-1' }));
    expect(error).toMatchObject({ code: 'HISTORY_TRUNCATED', after: 'x-1' });
  });
});
