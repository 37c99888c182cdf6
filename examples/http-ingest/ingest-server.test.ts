import type { AddressInfo } from 'node:net';
import { EventBus, MemoryEventStore, type StoredEvent } from 'busline';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createIngestServer } from './ingest-server.js';

let bus: EventBus;
let store: MemoryEventStore;
let url: string;
let close: () => Promise<void>;
let delivered: StoredEvent[];

beforeEach(async () => {
  store = new MemoryEventStore();
  bus = new EventBus({ store, maxEventBytes: 2048, rateLimit: { rate: 5, intervalMs: 60_000 } });
  delivered = [];
  bus.on('**', (event) => {
    delivered.push(event);
  });
  const server = createIngestServer({ bus, apiKeys: ['secret-1', 'secret-2'], maxBodyBytes: 64 * 1024 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/events`;
  close = () => new Promise((resolve) => server.close(() => resolve()));
});
afterEach(async () => {
  await close();
  await bus.close();
});

function post(body: unknown, key: string | null = 'secret-2') {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key === null ? {} : { 'x-api-key': key }) },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
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

describe('POST /api/events', () => {
  it('ingests a batch and answers one result per event', async () => {
    const response = await post({
      events: [event({ id: 'evt_1' }), event({ id: 'evt_2', type: 'tool_end' })],
    });
    expect(response.status).toBe(200);
    const { results } = await response.json();
    expect(results.map((r: { id: string; status: string }) => [r.id, r.status])).toEqual([
      ['evt_1', 'delivered'],
      ['evt_2', 'delivered'],
    ]);
    expect(delivered.map((e) => [e.type, e.stream, e.meta])).toEqual([
      ['tool_start', 'OP_123', { session_id: 'session_456', user_id: 'user_789' }],
      ['tool_end', 'OP_123', { session_id: 'session_456', user_id: 'user_789' }],
    ]);
  });

  it('reports duplicates (also inside one batch) and per-operation rate limits per event', async () => {
    await post({ events: [event({ id: 'dup' })] });
    const response = await post({
      events: [event({ id: 'dup' }), ...Array.from({ length: 6 }, (_, i) => event({ id: `n${i}` }))],
    });
    const { results } = await response.json();
    const statuses = results.map((r: { status: string }) => r.status);
    expect(statuses[0]).toBe('duplicate');
    expect(statuses.filter((s: string) => s === 'delivered')).toHaveLength(4); // rate 5 per minute, 1 used before
    expect(statuses.filter((s: string) => s === 'rate_limited')).toHaveLength(2);
    const other = await post({ events: [event({ operation_id: 'OP_999' })] });
    expect((await other.json()).results[0].status).toBe('delivered'); // another operation has its own budget
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
});
