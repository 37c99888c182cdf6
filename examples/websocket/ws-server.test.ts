import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EventBus, MemoryEventStore } from 'busline';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { attachEventBusWebSocket } from './ws-server.js';

interface Message {
  type: string;
  event?: { cursor: string; kind: string; data: { n: number }; task_id: string | null };
  [key: string]: unknown;
}

let server: Server;
let bus: EventBus;
let base: string;
let wss: ReturnType<typeof attachEventBusWebSocket>;

beforeEach(async () => {
  const store = new MemoryEventStore();
  bus = new EventBus({ store });
  server = createServer();
  wss = attachEventBusWebSocket({ server, bus, store, tokens: ['t0ken'], heartbeatMs: 50, replayLimit: 5 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/ws/event-bus`;
});
afterEach(async () => {
  for (const client of wss.clients) client.terminate();
  await new Promise((resolve) => wss.close(resolve));
  await new Promise((resolve) => server.close(resolve));
  await bus.close();
});

/** A client that records messages (pings aside) and can wait for a condition on them. */
function connect(query: string, headers: Record<string, string> = { authorization: 'Bearer t0ken' }) {
  const socket = new WebSocket(`${base}?${query}`, { headers });
  const messages: Message[] = [];
  let pings = 0;
  const listeners = new Set<() => void>();
  socket.on('message', (raw) => {
    const message = JSON.parse(String(raw)) as Message;
    if (message.type === 'ping') pings++;
    else messages.push(message);
    for (const check of listeners) check();
  });
  const closed = new Promise<number>((resolve) => socket.on('close', (code) => resolve(code)));
  const until = (done: () => boolean) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out; got ${JSON.stringify(messages)}`)), 5000);
      const check = () => {
        if (!done()) return;
        clearTimeout(timer);
        listeners.delete(check);
        resolve();
      };
      listeners.add(check);
      check();
    });
  const events = () => messages.filter((m) => m.type === 'event').map((m) => m.event!);
  return { socket, messages, events, until, closed, pings: () => pings };
}

const publish = (n: number, type = 'task.updated', task = 't1') =>
  bus.publish({ type, data: { n }, meta: { task_id: task } });

describe('WebSocket protocol (seed 001)', () => {
  it('confirms the subscription, then streams matching events live', async () => {
    const client = connect('kinds=task.*');
    await client.until(() => client.messages[0]?.type === 'subscribed');
    await publish(1);
    await publish(2, 'agent.started');
    await publish(3);
    await client.until(() => client.events().length === 2);
    expect(client.events().map((e) => [e.kind, e.data.n])).toEqual([
      ['task.updated', 1],
      ['task.updated', 3],
    ]);
    client.socket.close();
  });

  it('replays from a cursor, marks replay_complete, then continues live with no gap', async () => {
    const first = await publish(1);
    await publish(2);
    await publish(3);
    const client = connect(`kinds=task.*&cursor=${first.cursor}`);
    await client.until(() => client.messages.some((m) => m.type === 'replay_complete'));
    await publish(4);
    await client.until(() => client.events().length === 3);
    const types = client.messages.map((m) => (m.type === 'event' ? m.event!.data.n : m.type));
    expect(types).toEqual(['subscribed', 2, 3, 'replay_complete', 4]);
    client.socket.close();
  });

  it('resumes after a reconnect from the last cursor it saw: nothing missed, nothing repeated', async () => {
    const client = connect('kinds=**');
    await client.until(() => client.messages[0]?.type === 'subscribed');
    for (let n = 1; n <= 3; n++) await publish(n);
    await client.until(() => client.events().length === 3);
    client.socket.close();
    await client.closed;
    for (let n = 4; n <= 6; n++) await publish(n); // while disconnected
    const again = connect(`kinds=**&cursor=${client.events()[2]!.cursor}`);
    await again.until(() => again.messages.some((m) => m.type === 'replay_complete'));
    await publish(7);
    await again.until(() => again.events().length === 4);
    expect([...client.events(), ...again.events()].map((e) => e.data.n)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    again.socket.close();
  });

  it('replays at most replayLimit events and says what it skipped', async () => {
    const first = await publish(0);
    for (let n = 1; n <= 8; n++) await publish(n);
    const client = connect(`kinds=**&cursor=${first.cursor}`);
    await client.until(() => client.messages.some((m) => m.type === 'replay_complete'));
    expect(client.messages.find((m) => m.type === 'error')).toMatchObject({ code: 'REPLAY_LIMIT' });
    expect(client.events().map((e) => e.data.n)).toEqual([4, 5, 6, 7, 8]);
    client.socket.close();
  });

  it('filters by task_id', async () => {
    const client = connect('kinds=**&task_id=t2');
    await client.until(() => client.messages[0]?.type === 'subscribed');
    await publish(1, 'task.updated', 't1');
    await publish(2, 'task.updated', 't2');
    await client.until(() => client.events().length === 1);
    expect(client.events()[0]!.data.n).toBe(2);
    client.socket.close();
  });

  it('sends heartbeat pings', async () => {
    const client = connect('kinds=**');
    await client.until(() => client.pings() >= 2);
    client.socket.close();
  });

  it('closes unauthenticated connections (header or query token checked) and bad patterns', async () => {
    const noToken = connect('kinds=**', {});
    expect(await noToken.closed).toBe(4401);
    const viaQuery = connect('kinds=**&token=t0ken', {});
    await viaQuery.until(() => viaQuery.messages[0]?.type === 'subscribed');
    viaQuery.socket.close();
    const badKinds = connect('kinds=task*');
    expect(await badKinds.closed).toBe(1008);
    expect(badKinds.messages.at(-1)).toMatchObject({ type: 'error', code: 'INVALID_KINDS' });
  });
});
