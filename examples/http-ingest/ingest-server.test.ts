import type { Server } from 'node:http';
import { type AddressInfo, connect, type Socket } from 'node:net';
import { EventBus, MemoryEventStore, type StoredEvent } from 'busline';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createIngestServer, type IngestOptions } from './ingest-server.js';

let bus: EventBus;
let store: MemoryEventStore;
let servers: Server[];
let url: string;
let delivered: StoredEvent[];

const KEYS = { 'bridge-a': 'secret-1', 'bridge-b': 'secret-2' };

/** Starts an ingest server on the shared bus; returns its port. */
async function start(options: Partial<IngestOptions> = {}): Promise<number> {
  const server = createIngestServer({
    bus,
    apiKeys: KEYS,
    maxBodyBytes: 64 * 1024,
    rateLimit: { rate: 5, intervalMs: 60_000 },
    ...options,
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

beforeEach(async () => {
  store = new MemoryEventStore();
  bus = new EventBus({ store, maxEventBytes: 2048 });
  delivered = [];
  servers = [];
  bus.on('**', (event) => {
    delivered.push(event);
  });
  url = `http://127.0.0.1:${await start()}/api/events`;
});
afterEach(async () => {
  for (const server of servers) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
  await bus.close();
});

function post(body: unknown, key: string | null = 'secret-2', contentType = 'application/json') {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': contentType, ...(key === null ? {} : { 'x-api-key': key }) },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

async function statuses(response: Response): Promise<string[]> {
  return ((await response.json()).results as { status: string }[]).map((r) => r.status);
}

const event = (overrides: Record<string, unknown> = {}) => ({
  type: 'tool_start',
  content: 'Starting nmap scan...',
  timestamp: 1_640_000_000_000,
  operation_id: 'OP_123',
  session_id: 'session_456',
  user_id: 'user_789',
  ...overrides,
});

/** A raw connection: what it received, and a promise of its close. */
function rawClient(port: number, ...writes: string[]) {
  const socket: Socket = connect(port, '127.0.0.1');
  let received = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk) => (received += chunk));
  socket.on('error', () => {});
  socket.once('connect', () => {
    for (const data of writes) socket.write(data);
  });
  const closed = new Promise<string>((resolve) => socket.once('close', () => resolve(received)));
  return { socket, closed };
}

const HEAD = (length: number) =>
  `POST /api/events HTTP/1.1\r\nHost: x\r\nX-API-Key: secret-1\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n\r\n`;

describe('POST /api/events', () => {
  it('ingests a batch and answers one result per event, ids in the key namespace', async () => {
    const response = await post({
      events: [event({ id: 'evt_1' }), event({ id: 'evt_2', type: 'tool_end' })],
    });
    expect(response.status).toBe(200);
    const { results } = await response.json();
    expect(results.map((r: { id: string; status: string }) => [r.id, r.status])).toEqual([
      ['bridge-b:evt_1', 'delivered'],
      ['bridge-b:evt_2', 'delivered'],
    ]);
    const meta = { key_id: 'bridge-b', session_id: 'session_456', user_id: 'user_789' };
    expect(delivered.map((e) => [e.id, e.type, e.stream, e.meta])).toEqual([
      ['bridge-b:evt_1', 'tool_start', 'OP_123', meta],
      ['bridge-b:evt_2', 'tool_end', 'OP_123', meta],
    ]);
  });

  it('leaves a missing id to the bus (a UUIDv7 no client can choose)', async () => {
    const { results } = await (await post({ events: [event()] })).json();
    expect(results[0].id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7/);
  });

  it('reports duplicates, also inside one batch', async () => {
    await post({ events: [event({ id: 'dup' })] });
    const response = await post({ events: [event({ id: 'dup' }), event({ id: 'n' }), event({ id: 'n' })] });
    expect(await statuses(response)).toEqual(['duplicate', 'delivered', 'duplicate']);
  });

  // security-poc/ingest-ratelimit.ts: the limit was keyed by operation_id, so rotating it bypassed it.
  it('rate-limits per API key, whatever operation_id the body names: 429, nothing of the batch ingested', async () => {
    expect(await statuses(await post({ events: [event(), event(), event()] }))).toEqual(
      Array(3).fill('delivered'),
    );
    const rotating = [1, 2, 3].map((i) => event({ operation_id: `OP_x${i}` }));
    const limited = await post({ events: rotating });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await statuses(limited)).toEqual(Array(3).fill('rate_limited'));
    expect(await statuses(await post({ events: rotating.slice(0, 2) }))).toEqual(['delivered', 'delivered']);
    expect((await post({ events: [event({ operation_id: 'OP_new' })] })).status).toBe(429);
    // Another key has its own budget.
    expect(await statuses(await post({ events: [event()] }, 'secret-1'))).toEqual(['delivered']);
    expect(delivered).toHaveLength(6);
  });

  it('refuses a batch larger than the per-key burst, which could never pass', async () => {
    const response = await post({ events: Array.from({ length: 6 }, () => event()) });
    expect(response.status).toBe(400);
    expect((await response.json()).error).toMatch(/events/);
  });

  // security-poc/ingest-ratelimit.ts: ids were global, so key B could take key A's future id first.
  it('scopes ids per key: one key cannot take, or forge, another key’s id', async () => {
    await post({ events: [event({ id: 'evt_42', type: 'noise', operation_id: 'EVIL' })] }, 'secret-2');
    await post({ events: [event({ id: 'bridge-a:evt_43', type: 'noise' })] }, 'secret-2');
    const victim = await post({ events: [event({ id: 'evt_42' }), event({ id: 'evt_43' })] }, 'secret-1');
    const { results } = await victim.json();
    expect(results.map((r: { id: string; status: string }) => [r.id, r.status])).toEqual([
      ['bridge-a:evt_42', 'delivered'],
      ['bridge-a:evt_43', 'delivered'],
    ]);
    expect(delivered.map((e) => e.id)).toEqual([
      'bridge-b:evt_42',
      'bridge-b:bridge-a:evt_43',
      'bridge-a:evt_42',
      'bridge-a:evt_43',
    ]);
  });

  it('derives a key id from the key when keys are given as a list', async () => {
    const port = await start({ apiKeys: ['a-long-random-key'] });
    const response = await fetch(`http://127.0.0.1:${port}/api/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': 'a-long-random-key' },
      body: JSON.stringify({ events: [event({ id: 'e1' })] }),
    });
    expect((await response.json()).results[0].id).toMatch(/^k[0-9a-f]{12}:e1$/);
  });

  it.each([
    ['a missing key', null],
    ['a wrong key', 'secret-3'],
    ['a key that is a prefix of a real one', 'secret-'],
  ])('answers 401 to %s and ingests nothing', async (_, key) => {
    const response = await post({ events: [event()] }, key);
    expect(response.status).toBe(401);
    expect((await store.stats()).events).toBe(0);
  });

  it.each([
    ['a body that is not JSON', '{"events": ['],
    ['a batch without events', { events: [] }],
    ['an event without operation_id', { events: [event(), { type: 'x', content: 'y' }] }],
    ['an event whose type has a wildcard', { events: [event(), event({ type: 'tool.*' })] }],
    ['an event over the per-event size limit', { events: [event(), event({ content: 'x'.repeat(4096) })] }],
    ['a timestamp past what a Date can hold', { events: [event(), event({ timestamp: 1e17 })] }],
    ['a timestamp more than a day ahead', { events: [event({ timestamp: Date.now() + 25 * 3600_000 })] }],
    ['a timestamp in seconds', { events: [event({ timestamp: 1_640_000_000 })] }],
  ])('answers 400 with a clear message to %s, and ingests nothing of it', async (_, body) => {
    const response = await post(body);
    expect(response.status).toBe(400);
    const { error } = await response.json();
    expect(error).toEqual(expect.any(String));
    expect(error.length).toBeGreaterThan(10);
    expect((await store.stats()).events).toBe(0);
    expect(delivered).toEqual([]);
  });

  it('names the failing event of a batch', async () => {
    const response = await post({ events: [event(), event({ content: 'x'.repeat(4096) })] });
    expect((await response.json()).error).toMatch(/events\[1\]/);
  });

  it('answers 413 to a body over the limit', async () => {
    const response = await post({ events: [event({ content: 'x'.repeat(70 * 1024) })] });
    expect(response.status).toBe(413);
  });

  it('answers 503 when the bus cannot take events (closed, store down): the bridge retries later', async () => {
    await bus.close();
    const response = await post({ events: [event()] });
    expect(response.status).toBe(503);
    expect((await response.json()).code).toBe('CLOSED');
  });

  it('answers 415 to a body that is not declared as JSON', async () => {
    const response = await post({ events: [event()] }, 'secret-2', 'text/plain');
    expect(response.status).toBe(415);
    expect(delivered).toEqual([]);
  });
});

describe('hostile connections', () => {
  // security-poc/ingest-abort.mjs: a valid key, 11 of 1,000 body bytes, then a reset killed the process.
  it('survives a client that resets mid-body, and serves the next request', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const port = Number(new URL(url).port);
      const client = rawClient(port, `${HEAD(1000)}{"events":[`);
      await new Promise<void>((resolve) => client.socket.once('connect', () => resolve()));
      await waitForConnections(servers[0]!, 1);
      client.socket.resetAndDestroy();
      await client.closed;
      await waitForConnections(servers[0]!, 0);
      expect((await post({ events: [event()] })).status).toBe(200);
      expect(delivered).toHaveLength(1);
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('answers 408 and closes the connection when the body does not arrive within bodyTimeoutMs', async () => {
    const port = await start({ bodyTimeoutMs: 200 });
    const received = await rawClient(port, `${HEAD(1000)}{"events":[`).closed;
    expect(received).toMatch(/^HTTP\/1\.1 408/);
    expect(delivered).toEqual([]);
  });

  // security-poc/slowloris.mjs: trickled headers were held 95 s, a trickled body 335 s.
  it('closes a connection that trickles its headers past headersTimeoutMs', async () => {
    const port = await start({ headersTimeoutMs: 200, requestTimeoutMs: 400 });
    const client = rawClient(port, 'POST /api/events HTTP/1.1\r\n');
    const trickle = setInterval(() => client.socket.write('X-a: b\r\n'), 50);
    const received = await client.closed;
    clearInterval(trickle);
    expect(received).toMatch(/^HTTP\/1\.1 408/);
  });

  it('accepts at most maxConnections connections at once', async () => {
    const port = await start({ maxConnections: 1 });
    const first = rawClient(port);
    await new Promise<void>((resolve) => first.socket.once('connect', () => resolve()));
    const second = rawClient(port, HEAD(2));
    expect(await second.closed).toBe(''); // dropped before any answer
    first.socket.destroy();
  });
});

/** Waits until the server counts `n` open connections (it learns of a reset asynchronously). */
async function waitForConnections(server: Server, n: number): Promise<void> {
  for (;;) {
    const count = await new Promise<number>((resolve) => server.getConnections((_, c) => resolve(c)));
    if (count === n) return;
    await new Promise((resolve) => setImmediate(resolve));
  }
}
