// sseEvents on a connection that goes silent without closing (a half-open TCP connection, a hung
// server): with idleTimeoutMs it counts as dropped and is reopened after the last cursor. The test
// server sends no heartbeats, so a quiet stream is a silent one.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { EventBus, type StoredEvent } from '../../src/index.js';
import { sseEvents } from '../../src/sse/index.js';
import { startClientTestServer } from './client-test-server.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(route?: Parameters<typeof startClientTestServer>[2]) {
  const bus = new EventBus();
  const server = await startClientTestServer(bus, { retryMs: 20 }, route);
  cleanups.push(
    () => bus.close(),
    () => server.close(),
  );
  return { bus, server };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('sseEvents idleTimeoutMs', () => {
  it('reopens a connection silent for idleTimeoutMs, after the last cursor: nothing lost, nothing twice', async () => {
    const { bus, server } = await setup();
    const events = sseEvents(server.url, { retryMs: 20, idleTimeoutMs: 300 });
    const first = events.next();
    await vi.waitFor(() => expect(server.handler.stats().connections).toBe(1));
    const [one] = await bus.publishBatch([{ type: 'task.created', data: 1 }]);
    expect((await first).value).toMatchObject({ data: 1, cursor: one!.cursor });
    // Waiting for the next event on a silent connection: the watchdog gives up on it and opens
    // another after the cursor.
    const second = events.next();
    await vi.waitFor(() => expect(server.requests.length).toBe(2), { timeout: 3000 });
    expect(server.requests[1]!.lastEventId).toBe(one!.cursor);
    await vi.waitFor(() => expect(server.handler.stats().connections).toBe(1));
    await bus.publish({ type: 'task.created', data: 2 });
    expect((await second).value).toMatchObject({ data: 2 });
    await events.return!(undefined);
  });

  it('gives up on a request the server never answers, and asks again', async () => {
    const hung: { destroy(): void }[] = [];
    const { bus, server } = await setup((_req, res, index) => {
      if (index > 0) return false;
      hung.push(res); // never answered
      return true;
    });
    cleanups.push(async () => {
      for (const res of hung) res.destroy();
    });
    const events = sseEvents(server.url, { retryMs: 20, idleTimeoutMs: 200 });
    const first = events.next();
    await vi.waitFor(() => expect(server.handler.stats().connections).toBe(1), { timeout: 3000 });
    expect(server.requests).toHaveLength(2);
    await bus.publish({ type: 'task.created', data: 1 });
    expect((await first).value).toMatchObject({ data: 1 });
    await events.return!(undefined);
  });

  it('does not count the time the caller spends on an event as silence', async () => {
    const { bus, server } = await setup();
    const events = sseEvents(server.url, { retryMs: 20, idleTimeoutMs: 200 });
    const first = events.next();
    await vi.waitFor(() => expect(server.handler.stats().connections).toBe(1));
    await bus.publishBatch([
      { type: 'task.created', data: 1 },
      { type: 'task.created', data: 2 },
    ]);
    const received: StoredEvent[] = [(await first).value as StoredEvent];
    await sleep(500); // the caller is busy with event 1, far past idleTimeoutMs
    received.push((await events.next()).value as StoredEvent);
    // The connection is still the first one: the next event comes through it.
    const third = events.next();
    await bus.publish({ type: 'task.created', data: 3 });
    received.push((await third).value as StoredEvent);
    expect(received.map((e) => e.data)).toEqual([1, 2, 3]);
    expect(server.requests).toHaveLength(1);
    await events.return!(undefined);
  });

  it('with 0, waits on a silent connection for good', async () => {
    const { server } = await setup();
    const stop = new AbortController();
    const events = sseEvents(server.url, { retryMs: 20, idleTimeoutMs: 0, signal: stop.signal });
    const pending = events.next();
    await vi.waitFor(() => expect(server.handler.stats().connections).toBe(1));
    await sleep(400);
    expect(server.requests).toHaveLength(1);
    stop.abort();
    expect(await pending).toEqual({ done: true, value: undefined });
  });
});
