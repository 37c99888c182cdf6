/**
 * Seed 001's WebSocket protocol on top of busline: subscribe with `kinds` patterns and
 * filters, replay from a `cursor` (up to 1,000 events) closed by `replay_complete`, then live
 * events with no gap, and a heartbeat. The client resumes after a reconnect by sending the
 * cursor of the last event it saw.
 *
 * Server → client messages: subscribed | event | replay_complete | error | ping.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import {
  type EventBus,
  type EventStore,
  HistoryTruncated,
  InvalidPatternError,
  parsePattern,
  type StoredEvent,
} from 'busline';
import { type WebSocket, WebSocketServer } from 'ws';

export interface WsOptions {
  server: Server;
  bus: EventBus;
  /** The bus's store: the server reads the replay from it, page by page. */
  store: EventStore;
  tokens: readonly string[];
  path?: string;
  /** @default 30_000 */
  heartbeatMs?: number;
  /** Most events replayed per connection (seed 001: 1,000). @default 1000 */
  replayLimit?: number;
  /** Per-connection buffer between the bus and the socket. @default 1024 */
  bufferSize?: number;
}

type ServerMessage =
  | { type: 'subscribed'; kinds: string[]; cursor: string | null }
  | { type: 'event'; event: WireEvent }
  | { type: 'replay_complete'; count: number; cursor: string | null }
  | { type: 'error'; code: string; message: string }
  | { type: 'ping'; time: number };

/** Seed 001's event shape: `cursor`, `kind`, ids at the top. */
interface WireEvent {
  cursor: string;
  kind: string;
  time: string;
  agent_id: string | null;
  task_id: string | null;
  data: unknown;
}

export function attachEventBusWebSocket(options: WsOptions): WebSocketServer {
  const { server, path = '/ws/event-bus', heartbeatMs = 30_000 } = options;
  const tokenDigests = options.tokens.map(digest);
  const wss = new WebSocketServer({ server, path });
  wss.on('connection', (socket, req) => {
    if (!authorized(req, tokenDigests)) {
      send(socket, { type: 'error', code: 'UNAUTHORIZED', message: 'Missing or invalid bearer token' });
      socket.close(4401, 'unauthorized');
      return;
    }
    void stream(socket, new URL(req.url ?? '/', 'http://localhost').searchParams, options);
  });
  const heartbeat = setInterval(() => {
    for (const socket of wss.clients) send(socket, { type: 'ping', time: Date.now() });
  }, heartbeatMs);
  wss.on('close', () => clearInterval(heartbeat));
  return wss;
}

async function stream(socket: WebSocket, params: URLSearchParams, options: WsOptions): Promise<void> {
  const { bus, store, replayLimit = 1000, bufferSize = 1024 } = options;
  const kinds = (params.get('kinds') ?? '**').split(',').filter(Boolean);
  const agentId = params.get('agent_id');
  const taskId = params.get('task_id');
  const filter = (event: StoredEvent) =>
    (agentId === null || event.meta?.agent_id === agentId) &&
    (taskId === null || event.meta?.task_id === taskId);
  const abort = new AbortController();
  socket.on('close', () => abort.abort());
  try {
    let cursor = params.get('cursor');
    for (const kind of kinds) parsePattern(kind); // a bad pattern throws InvalidPatternError before anything is sent
    send(socket, { type: 'subscribed', kinds, cursor });
    if (cursor !== null) cursor = await replay(socket, store, { kinds, cursor, filter, replayLimit });
    // Live from the last replayed cursor: the bus's own handover makes it gapless.
    const subscription = bus.subscribe(kinds, {
      from: cursor === null ? 'now' : { after: cursor },
      filter,
      bufferSize,
      overflow: 'error', // a client that falls behind is disconnected and resumes from its cursor: lossless
      signal: abort.signal,
    });
    for await (const item of subscription) {
      if (item instanceof HistoryTruncated) {
        send(socket, { type: 'error', code: 'HISTORY_TRUNCATED', message: item.message });
        continue;
      }
      await sendAndWait(socket, { type: 'event', event: toWire(item) });
    }
  } catch (error) {
    const code =
      error instanceof InvalidPatternError ? 'INVALID_KINDS' : ((error as { code?: string }).code ?? 'ERROR');
    send(socket, { type: 'error', code, message: (error as Error).message });
    socket.close(code === 'BUFFER_OVERFLOW' ? 1013 : 1008, code);
  }
}

/** Sends up to `replayLimit` stored events after `cursor`, then `replay_complete`; returns the cursor to go live from. */
async function replay(
  socket: WebSocket,
  store: EventStore,
  q: { kinds: string[]; cursor: string; filter: (e: StoredEvent) => boolean; replayLimit: number },
): Promise<string> {
  let page = await store.read({ after: q.cursor, types: q.kinds, limit: q.replayLimit });
  let last = q.cursor;
  if (page.truncated)
    send(socket, {
      type: 'error',
      code: 'HISTORY_TRUNCATED',
      message: 'Events after the cursor were removed by retention',
    });
  if (page.next !== undefined) {
    // More than the limit: send the newest `replayLimit` and say what was skipped (seed 001 points to its HTTP API).
    send(socket, {
      type: 'error',
      code: 'REPLAY_LIMIT',
      message: `More than ${q.replayLimit} events to replay; older ones skipped`,
    });
    const newest = await store.read({ types: q.kinds, limit: q.replayLimit, direction: 'backward' });
    page = { events: newest.events.reverse() };
  }
  let count = 0;
  for (const event of page.events) {
    last = event.cursor;
    if (!q.filter(event)) continue;
    await sendAndWait(socket, { type: 'event', event: toWire(event) });
    count++;
  }
  send(socket, { type: 'replay_complete', count, cursor: last });
  return last;
}

function toWire(event: StoredEvent): WireEvent {
  return {
    cursor: event.cursor,
    kind: event.type,
    time: new Date(event.time).toISOString(),
    agent_id: (event.meta?.agent_id as string | undefined) ?? null,
    task_id: (event.meta?.task_id as string | undefined) ?? null,
    data: event.data,
  };
}

function send(socket: WebSocket, message: ServerMessage): void {
  if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(message));
}

/** Resolves once the frame is handed to the OS: a slow client slows this loop, not server memory. */
function sendAndWait(socket: WebSocket, message: ServerMessage): Promise<void> {
  if (socket.readyState !== socket.OPEN) return Promise.resolve();
  return new Promise((resolve) => socket.send(JSON.stringify(message), () => resolve()));
}

function authorized(req: IncomingMessage, tokenDigests: Buffer[]): boolean {
  const header = req.headers.authorization;
  const token = header?.startsWith('Bearer ')
    ? header.slice(7)
    : new URL(req.url ?? '/', 'http://localhost').searchParams.get('token');
  if (!token) return false;
  const candidate = digest(token);
  let ok = false;
  for (const known of tokenDigests) ok = timingSafeEqual(candidate, known) || ok;
  return ok;
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
