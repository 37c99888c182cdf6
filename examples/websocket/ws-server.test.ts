import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EventBus, type EventStore, MemoryEventStore, type ReadQuery } from 'busline';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { attachEventBusWebSocket, type TokenGrant } from './ws-server.js';

interface Message {
  type: string;
  event?: {
    cursor: string;
    kind: string;
    time: string | null;
    data: { n: number };
    agent_id: string | null;
    task_id: string | null;
  };
  [key: string]: unknown;
}

let server: Server;
let bus: EventBus;
let base: string;
let wss: ReturnType<typeof attachEventBusWebSocket>;

const GRANTS: TokenGrant[] = [
  { token: 't0ken', subject: 'operator', kinds: ['**'] },
  { token: 'token-of-agent-A', subject: 'agent A', kinds: ['task.**', 'agent.**'], meta: { agent_id: 'A' } },
  { token: 'token-of-agent-B', subject: 'agent B', kinds: ['task.**', 'agent.**'], meta: { agent_id: 'B' } },
];

/** Starts the server on `store` (a fresh memory store unless given). */
async function start(store: EventStore = new MemoryEventStore()): Promise<void> {
  bus = new EventBus({ store });
  server = createServer();
  wss = attachEventBusWebSocket({ server, bus, store, grants: GRANTS, heartbeatMs: 50, replayLimit: 5 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/ws/event-bus`;
}

beforeEach(() => start());
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

const publish = (n: number, type = 'task.updated', task = 't1', agent?: string) =>
  bus.publish({ type, data: { n }, meta: { task_id: task, ...(agent ? { agent_id: agent } : {}) } });

const as = (token: string) => ({ authorization: `Bearer ${token}` });

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

// security-poc/ws-poison.ts (a): any token could use kinds=**, and agent_id was only a client-chosen filter.
describe('who may see what: the token’s grant, narrowed by the query', () => {
  it('never sends agent B another agent’s events, whatever kinds it asks for', async () => {
    const b = connect('kinds=**', as('token-of-agent-B'));
    await b.until(() => b.messages[0]?.type === 'subscribed');
    expect(b.messages[0]).toMatchObject({ kinds: ['**'], granted: ['task.**', 'agent.**'] });
    await bus.publish({ type: 'task.secret', data: { plan: 'A-only' }, meta: { agent_id: 'A' } });
    await publish(1, 'task.updated', 't1'); // no agent_id: not B's either
    await publish(2, 'user.login', 't1', 'B'); // B's, but outside B's kinds
    await publish(3, 'task.updated', 't1', 'B');
    await b.until(() => b.events().length === 1);
    await bus.drain();
    expect(b.events().map((e) => [e.kind, e.agent_id, e.data.n])).toEqual([['task.updated', 'B', 3]]);
    b.socket.close();
  });

  it('replays only what the grant allows', async () => {
    const first = await publish(0, 'task.updated', 't1', 'B');
    await publish(1, 'task.updated', 't1', 'A');
    await publish(2, 'task.updated', 't1', 'B');
    const b = connect(`kinds=task.*&cursor=${first.cursor}`, as('token-of-agent-B'));
    await b.until(() => b.messages.some((m) => m.type === 'replay_complete'));
    expect(b.events().map((e) => [e.agent_id, e.data.n])).toEqual([['B', 2]]);
    expect(b.messages.find((m) => m.type === 'replay_complete')).toMatchObject({ count: 1 });
    b.socket.close();
  });

  it.each([
    ['an agent_id filter naming another agent', 'kinds=task.*&agent_id=A'],
    ['kinds outside the grant', 'kinds=user.*'],
    ['one of several kinds outside the grant', 'kinds=task.*,billing.**'],
  ])('closes with 4403 FORBIDDEN for %s', async (_, query) => {
    const b = connect(query, as('token-of-agent-B'));
    expect(await b.closed).toBe(4403);
    expect(b.messages).toEqual([expect.objectContaining({ type: 'error', code: 'FORBIDDEN' })]);
  });

  it('accepts kinds that overlap the grant (task.* within task.**, ** over it) and its own agent_id', async () => {
    const b = connect('kinds=task.*,*.updated&agent_id=B', as('token-of-agent-B'));
    await b.until(() => b.messages[0]?.type === 'subscribed');
    await publish(1, 'task.updated', 't1', 'B');
    await b.until(() => b.events().length === 1);
    b.socket.close();
  });

  it('gives the operator’s grant (kinds **, no meta) every event', async () => {
    const op = connect('kinds=**');
    await op.until(() => op.messages[0]?.type === 'subscribed');
    await publish(1, 'task.updated', 't1', 'A');
    await publish(2, 'user.login', 't1');
    await op.until(() => op.events().length === 2);
    op.socket.close();
  });

  it('refuses grants it cannot enforce', () => {
    const attach = (grants: unknown) =>
      attachEventBusWebSocket({
        server: createServer(),
        bus,
        store: new MemoryEventStore(),
        grants,
      } as never);
    expect(() => attach(['t0ken'])).toThrow(/token, subject, kinds/);
    expect(() => attach([{ token: 'x', subject: 's', kinds: [] }])).toThrow(/no kinds/);
    expect(() => attach([...GRANTS, { token: 't0ken', subject: 'again', kinds: ['**'] }])).toThrow(
      /repeats a token/,
    );
  });
});

/** A store holding entries the bus never validated (an older version, another writer). */
class UnvalidatedStore extends MemoryEventStore {
  override async read(query: ReadQuery) {
    const page = await super.read(query);
    const events = page.events.map((event) =>
      event.type === 'task.poison'
        ? { ...event, time: 1e17 }
        : event.type === 'task.bigint'
          ? { ...event, data: 10n }
          : event,
    );
    return { ...page, events };
  }
}

// security-poc/ws-poison.ts (b): time 1e17 made toISOString throw, closing every matching client on each resume.
describe('events the wire format cannot carry', () => {
  it('are refused at publish by the bus (time beyond what a Date holds)', async () => {
    await expect(bus.publish({ type: 'task.updated', data: 'poison', time: 1e17 })).rejects.toMatchObject({
      code: 'INVALID_EVENT',
    });
  });

  it('never close a client: a stored time no Date can hold is sent as null, unserializable data is skipped', async () => {
    await bus.close();
    await new Promise((resolve) => wss.close(resolve));
    await new Promise((resolve) => server.close(resolve));
    await start(new UnvalidatedStore());
    const first = await publish(0);
    await publish(1, 'task.poison');
    await publish(2, 'task.bigint');
    await publish(3);
    const client = connect(`kinds=task.*&cursor=${first.cursor}`);
    await client.until(() => client.messages.some((m) => m.type === 'replay_complete'));
    await publish(4);
    await client.until(() => client.events().some((e) => e.data.n === 4));
    expect(client.events().map((e) => [e.data.n, e.time === null])).toEqual([
      [1, true],
      [3, false],
      [4, false],
    ]);
    expect(client.messages.find((m) => m.type === 'error')).toMatchObject({ code: 'UNSENDABLE_EVENT' });
    expect(client.socket.readyState).toBe(WebSocket.OPEN);
    client.socket.close();
  });
});
