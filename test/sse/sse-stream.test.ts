import { afterEach, describe, expect, it, vi } from 'vitest';
import { EventBus, MemoryEventStore, type Subscription } from '../../src/index.js';
import { SSE_DEFAULTS, sseStream } from '../../src/sse/index.js';
import { SSECollector } from './parse-sse.js';

type Reader = ReadableStreamDefaultReader<Uint8Array>;

/** Reads chunks until `done(collector)` holds or the stream ends; returns whether it ended. */
async function readUntil(
  reader: Reader,
  out: SSECollector,
  done: (c: SSECollector) => boolean,
): Promise<boolean> {
  while (!done(out)) {
    const chunk = await reader.read();
    if (chunk.done) return true;
    out.push(chunk.value);
  }
  return false;
}

async function readToEnd(reader: Reader, out: SSECollector): Promise<void> {
  await readUntil(reader, out, () => false);
}

const bigStore = () => new MemoryEventStore({ maxEventsPerStream: 100_000, maxEvents: 1_000_000 });
const yieldToIO = () => new Promise<void>((resolve) => setImmediate(resolve));

afterEach(() => {
  vi.useRealTimers();
});

describe('sseStream', () => {
  it('sends retry first, then events published after the stream was created, as frames', async () => {
    const bus = new EventBus();
    await bus.publish({ type: 'task.created', data: 'before' });
    const reader = sseStream(bus, { pattern: 'task.*', retryMs: 500 }).getReader();
    const out = new SSECollector();
    await bus.publish({ type: 'task.created', data: 'after' });
    await bus.publish({ type: 'user.created', data: 'other' });
    await readUntil(reader, out, (c) => c.busEvents.length === 1);
    expect(out.text.startsWith('retry: 500\n\n')).toBe(true);
    expect(out.parsed.retry).toBe(500);
    expect(out.busEvents).toMatchObject([{ type: 'task.created', data: 'after', event: 'task.created' }]);
    expect(out.busEvents[0]!.lastEventId).toBe(out.busEvents[0]!.cursor);
    await reader.cancel();
  });

  it('replays after lastEventId, then goes live with no gap and no duplicate while publishers run', async () => {
    const bus = new EventBus({ store: bigStore(), dedup: false });
    const cursors: string[] = [];
    const publishMany = async (from: number, to: number): Promise<void> => {
      for (let n = from; n < to; n++) {
        const type = n % 3 === 0 ? 'user.seen' : 'task.updated';
        const result = await bus.publish({ type, data: n });
        if (type === 'task.updated') cursors.push(result.cursor!);
        if (n % 7 === 0) await yieldToIO();
      }
    };
    await publishMany(0, 300);
    const resumeAfter = cursors[100]!;
    // Two publishers keep going while the stream replays and switches to live.
    const publishing = Promise.all([publishMany(300, 1200), publishMany(1200, 2000)]);
    const reader = sseStream(bus, {
      pattern: 'task.*',
      lastEventId: resumeAfter,
      bufferSize: 64,
    }).getReader();
    const out = new SSECollector();
    await publishing;
    const expected = cursors.filter((c) => c > resumeAfter).sort();
    await readUntil(reader, out, (c) => c.busEvents.length >= expected.length);
    await bus.publish({ type: 'task.updated', data: 'last' });
    await readUntil(reader, out, (c) => c.busEvents.length > expected.length);
    const seen = out.busEvents.map((e) => e.cursor);
    expect(seen.slice(0, -1)).toEqual(expected);
    expect(out.busEvents.at(-1)!.data).toBe('last');
    expect(out.notices).toEqual([]);
    await reader.cancel();
  });

  it('sends a ": ping" comment after heartbeatMs without traffic, and not before', async () => {
    vi.useFakeTimers();
    const bus = new EventBus();
    const reader = sseStream(bus, { pattern: '**', heartbeatMs: 1000 }).getReader();
    const out = new SSECollector();
    const first = reader.read().then((chunk) => out.push(chunk.value!));
    await vi.advanceTimersByTimeAsync(999);
    expect(out.text).toBe('');
    await vi.advanceTimersByTimeAsync(1);
    await first;
    expect(out.text).toBe(': ping\n\n');
    // Traffic resets the wait: the event goes out, and the next ping comes a full period later.
    const second = reader.read().then((chunk) => out.push(chunk.value!));
    await vi.advanceTimersByTimeAsync(500);
    await bus.publish({ type: 'a', data: 1 });
    await second;
    expect(out.busEvents).toHaveLength(1);
    const third = reader.read().then((chunk) => out.push(chunk.value!));
    await vi.advanceTimersByTimeAsync(999);
    expect(out.parsed.comments).toEqual(['ping']);
    await vi.advanceTimersByTimeAsync(1);
    await third;
    expect(out.parsed.comments).toEqual(['ping', 'ping']);
    await reader.cancel();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('defaults the heartbeat to 15 s and turns it off with 0', async () => {
    vi.useFakeTimers();
    expect(SSE_DEFAULTS.heartbeatMs).toBe(15_000);
    const bus = new EventBus();
    const reader = sseStream(bus, { pattern: '**', heartbeatMs: 0 }).getReader();
    let settled = false;
    const read = reader.read().then(() => (settled = true));
    await vi.advanceTimersByTimeAsync(3_600_000);
    expect(settled).toBe(false);
    expect(vi.getTimerCount()).toBe(0);
    await reader.cancel();
    await read;
  });

  it('turns a HistoryTruncated item into a busline.history_truncated event before the retained events', async () => {
    const bus = new EventBus({ store: new MemoryEventStore({ maxEventsPerStream: 5 }) });
    const results = [];
    for (let n = 1; n <= 10; n++) results.push(await bus.publish({ type: 'tick', data: n }));
    const reader = sseStream(bus, { pattern: 'tick', lastEventId: results[0]!.cursor }).getReader();
    const out = new SSECollector();
    await readUntil(reader, out, (c) => c.busEvents.length === 5);
    const [notice, ...rest] = out.parsed.events;
    expect(notice!.event).toBe('busline.history_truncated');
    expect(JSON.parse(notice!.data)).toMatchObject({
      after: results[0]!.cursor,
      message: /no longer retained/,
    });
    expect(rest.map((e) => JSON.parse(e.data).data)).toEqual([6, 7, 8, 9, 10]);
    await reader.cancel();
  });

  it('treats a cursor of an earlier store (a restarted memory store) as truncated history, not an error', async () => {
    const before = new EventBus();
    const old = await before.publish({ type: 'tick', data: 'old' });
    const bus = new EventBus(); // a new MemoryEventStore: another epoch
    await bus.publish({ type: 'tick', data: 'retained' });
    const reader = sseStream(bus, { pattern: 'tick', lastEventId: old.cursor }).getReader();
    const out = new SSECollector();
    await readUntil(reader, out, (c) => c.busEvents.length === 1);
    expect(out.notices.map((n) => n.event)).toEqual(['busline.history_truncated']);
    expect(out.busEvents[0]!.data).toBe('retained');
    await reader.cancel();
  });

  it('answers a malformed Last-Event-ID with a busline.error event that clears the id, then streams live', async () => {
    const reported: unknown[] = [];
    const bus = new EventBus({ onError: (error) => reported.push(error) });
    await bus.publish({ type: 'tick', data: 'history' });
    const reader = sseStream(bus, { pattern: 'tick', lastEventId: 'not-a-cursor' }).getReader();
    const out = new SSECollector();
    await readUntil(reader, out, (c) => c.notices.length === 1);
    expect(out.notices[0]).toEqual({
      event: 'busline.error',
      body: {
        code: 'INVALID_OPTION',
        lastEventId: 'not-a-cursor',
        message: expect.stringContaining('not a cursor of this store'),
      },
      lastEventId: '',
    });
    await bus.publish({ type: 'tick', data: 'live' });
    await readUntil(reader, out, (c) => c.busEvents.length === 1);
    expect(out.busEvents.map((e) => e.data)).toEqual(['live']);
    expect(bus.stats().subscriptions).toBe(1);
    expect(reported).toMatchObject([{ code: 'INVALID_OPTION' }]); // the bus reports the failed replay too
    await reader.cancel();
    expect(bus.stats().subscriptions).toBe(0);
  });

  it('on a bus without a store, says history cannot be replayed and streams live', async () => {
    const bus = new EventBus({ store: null });
    const reader = sseStream(bus, { pattern: 'tick', lastEventId: 'some-id', retryMs: 100 }).getReader();
    const out = new SSECollector();
    await bus.publish({ type: 'tick', data: 'live' });
    await readUntil(reader, out, (c) => c.busEvents.length === 1);
    expect(out.parsed.retry).toBe(100);
    expect(out.notices).toMatchObject([
      { event: 'busline.history_truncated', body: { after: 'some-id', message: /store: null/ } },
    ]);
    await reader.cancel();
  });

  it('a slow reader holds at most bufferSize events and catches up from the store, losing nothing', async () => {
    const failures: unknown[] = [];
    const bus = new EventBus({ dedup: false, onError: (error) => failures.push(error) });
    const { reader, subscription, out, mostBuffered } = await readOneThenStop(bus);
    expect(mostBuffered).toBe(16);
    expect(subscription.stats()).toMatchObject({ bufferSize: 16, overflow: 'catch-up', dropped: 0 });
    // The reader comes back: everything arrives, in order, once.
    await readUntil(reader, out, (c) => c.busEvents.length === 101);
    expect(out.busEvents.map((e) => e.data)).toEqual(Array.from({ length: 101 }, (_, i) => i + 1));
    await bus.publish({ type: 'tick', data: 102 });
    await readUntil(reader, out, (c) => c.busEvents.length === 102);
    expect(failures).toEqual([]);
    await reader.cancel();
    await bus.close();
  });

  it('without a store, a slow reader holds at most bufferSize events; past that the stream ends', async () => {
    const failures: unknown[] = [];
    const bus = new EventBus({ store: null, dedup: false, onError: (error) => failures.push(error) });
    const { reader, subscription, out, mostBuffered } = await readOneThenStop(bus);
    expect(mostBuffered).toBe(16);
    expect(subscription.stats()).toMatchObject({ bufferSize: 16, overflow: 'error', dropped: 1 });
    expect(bus.stats().subscriptions).toBe(0); // released at the overflow, not when the reader comes back
    expect(failures).toMatchObject([{ code: 'BUFFER_OVERFLOW' }]);
    // What was buffered is still delivered, then the stream says why it ends, and ends.
    await readToEnd(reader, out);
    expect(out.busEvents.map((e) => e.data)).toEqual(Array.from({ length: 17 }, (_, i) => i + 1));
    expect(out.notices).toMatchObject([{ event: 'busline.error', body: { code: 'BUFFER_OVERFLOW' } }]);
  });

  it('sends busline.error and ends when the store cannot be read, keeping the last id for the retry', async () => {
    const store = new MemoryEventStore();
    const bus = new EventBus({ store, onError: () => {} });
    const first = await bus.publish({ type: 'tick', data: 1 });
    store.read = async () => {
      throw new Error('disk on fire');
    };
    const reader = sseStream(bus, { pattern: 'tick', lastEventId: first.cursor }).getReader();
    const out = new SSECollector();
    await readToEnd(reader, out);
    expect(out.notices).toMatchObject([
      { event: 'busline.error', body: { code: 'STORE_UNAVAILABLE', message: /could not be read/ } },
    ]);
    expect(out.text).not.toMatch(/^id:/m);
    expect(bus.stats().subscriptions).toBe(0);
  });

  it('sends events already waiting in one chunk, and none that the reader has not asked for', async () => {
    const bus = new EventBus();
    const subscribe = vi.spyOn(bus, 'subscribe');
    const reader = sseStream(bus, { pattern: 'tick' }).getReader();
    const subscription = subscribe.mock.results[0]!.value as Subscription<unknown>;
    for (let n = 1; n <= 10; n++) await bus.publish({ type: 'tick', data: n });
    expect(subscription.stats()).toMatchObject({ buffered: 10, yielded: 0 });
    const chunk = await reader.read();
    const out = new SSECollector();
    out.push(chunk.value!);
    expect(out.busEvents.map((e) => e.data)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(subscription.stats()).toMatchObject({ buffered: 0, yielded: 10 });
    await reader.cancel();
  });

  it('releases the subscription when the consumer cancels', async () => {
    const bus = new EventBus();
    const reader = sseStream(bus, { pattern: '**' }).getReader();
    const pending = reader.read();
    expect(bus.stats().subscriptions).toBe(1);
    await reader.cancel();
    expect(await pending).toEqual({ done: true, value: undefined });
    expect(bus.stats().subscriptions).toBe(0);
  });

  it('ends the stream and releases the subscription when the signal aborts, even mid-read', async () => {
    const bus = new EventBus();
    const abort = new AbortController();
    const reader = sseStream(bus, { pattern: '**', signal: abort.signal }).getReader();
    const pending = reader.read();
    abort.abort();
    expect(await pending).toEqual({ done: true, value: undefined });
    expect(bus.stats().subscriptions).toBe(0);
    const already = sseStream(bus, { pattern: '**', signal: AbortSignal.abort() }).getReader();
    expect(await already.read()).toEqual({ done: true, value: undefined });
    expect(bus.stats().subscriptions).toBe(0);
  });

  it('ends the stream when the bus closes, after the events it had buffered', async () => {
    const bus = new EventBus();
    const reader = sseStream(bus, { pattern: '**' }).getReader();
    await bus.publish({ type: 'a', data: 1 });
    await bus.close();
    const out = new SSECollector();
    await readToEnd(reader, out);
    expect(out.busEvents.map((e) => e.data)).toEqual([1]);
  });

  it('applies filter, and omits the event line with named: false', async () => {
    const bus = new EventBus();
    const reader = sseStream(bus, {
      pattern: ['task.*', 'job.*'],
      filter: (event) => event.meta?.role === 'admin',
      named: false,
    }).getReader();
    await bus.publish({ type: 'task.created', data: 1, meta: { role: 'user' } });
    await bus.publish({ type: 'job.failed', data: 2, meta: { role: 'admin' } });
    const out = new SSECollector();
    await readUntil(reader, out, (c) => c.busEvents.length === 1);
    expect(out.busEvents).toMatchObject([{ type: 'job.failed', data: 2, event: 'message' }]);
    await reader.cancel();
  });

  it('throws at once for a bad pattern or option, subscribing nothing', () => {
    const bus = new EventBus();
    expect(() => sseStream(bus, { pattern: 'task*' })).toThrow(
      expect.objectContaining({ code: 'INVALID_PATTERN' }),
    );
    expect(() => sseStream(bus, { pattern: '**', heartbeatMs: -1 })).toThrow(/heartbeatMs/);
    expect(() => sseStream(bus, { pattern: '**', retryMs: 1.5 })).toThrow(/retryMs/);
    expect(() => sseStream(bus, { pattern: '**', bufferSize: 0 })).toThrow(/bufferSize/);
    expect(() => sseStream(bus, { pattern: '**', lastEventId: 7 as never })).toThrow(/lastEventId/);
    expect(bus.stats().subscriptions).toBe(0);
  });
});

/**
 * A stream of 'tick' with a 16-event buffer whose reader takes the first event, then stops
 * reading while 100 more are published; returns the most the subscription ever buffered.
 */
async function readOneThenStop(bus: EventBus) {
  const subscribe = vi.spyOn(bus, 'subscribe');
  const reader = sseStream(bus, { pattern: 'tick', bufferSize: 16 }).getReader();
  const subscription = subscribe.mock.results[0]!.value as Subscription<unknown>;
  const out = new SSECollector();
  await bus.publish({ type: 'tick', data: 1 });
  await readUntil(reader, out, (c) => c.busEvents.length === 1);
  let mostBuffered = 0;
  for (let n = 2; n <= 101; n++) {
    await bus.publish({ type: 'tick', data: n });
    mostBuffered = Math.max(mostBuffered, subscription.stats().buffered);
  }
  return { reader, subscription, out, mostBuffered };
}
