/**
 * Seed 001's WebSocket protocol on top of busline: subscribe with `kinds` patterns and
 * filters, replay from a `cursor` (up to 1,000 events) closed by `replay_complete`, then live
 * events with no gap, and a heartbeat. The client resumes after a reconnect by sending the
 * cursor of the last event it saw.
 *
 * Who sees what comes from the token, not the query: each token maps to a grant (grants.ts),
 * and the client's `kinds`, `agent_id` and `task_id` only narrow it.
 *
 * Server → client messages: subscribed | event | replay_complete | error | ping.
 */
import type { IncomingMessage, Server } from 'node:http';
import {
  type EventBus,
  type EventStore,
  HistoryTruncated,
  InvalidPatternError,
  type StoredEvent,
} from 'busline';
import { type WebSocket, WebSocketServer } from 'ws';
import { ForbiddenError, GrantRing, type Scope, scopeFor, type TokenGrant } from './grants.js';

export type { TokenGrant } from './grants.js';

export interface WsOptions {
  server: Server;
  bus: EventBus;
  /** The bus's store: the server reads the replay from it, page by page. */
  store: EventStore;
  /** One grant per token: what its holder may see (see grants.ts). */
  grants: readonly TokenGrant[];
  path?: string;
  /** @default 30_000 */
  heartbeatMs?: number;
  /** Most events replayed per connection (seed 001: 1,000). @default 1000 */
  replayLimit?: number;
  /** Per-connection buffer between the bus and the socket. @default 1024 */
  bufferSize?: number;
  /** Patterns per connection (`kinds=a,b,…`). @default 32 */
  maxKinds?: number;
}

type ServerMessage =
  | { type: 'subscribed'; kinds: string[]; granted: readonly string[]; cursor: string | null }
  | { type: 'event'; event: WireEvent }
  | { type: 'replay_complete'; count: number; cursor: string | null }
  | { type: 'error'; code: string; message: string }
  | { type: 'ping'; time: number };

/** Seed 001's event shape: `cursor`, `kind`, ids at the top. */
interface WireEvent {
  cursor: string;
  kind: string;
  /** ISO 8601; null when the stored time is no valid date (never for an event the bus validated). */
  time: string | null;
  agent_id: string | null;
  task_id: string | null;
  data: unknown;
}

export function attachEventBusWebSocket(options: WsOptions): WebSocketServer {
  const { server, path = '/ws/event-bus', heartbeatMs = 30_000 } = options;
  const grants = new GrantRing(options.grants);
  // Clients send nothing in this protocol: cap what ws buffers for one message (its default is 100 MiB).
  const wss = new WebSocketServer({ server, path, maxPayload: 4 * 1024 });
  wss.on('connection', (socket, req) => {
    const params = new URL(req.url ?? '/', 'http://localhost').searchParams;
    const grant = grants.find(bearerToken(req, params));
    if (grant === undefined) {
      send(socket, { type: 'error', code: 'UNAUTHORIZED', message: 'Missing or invalid bearer token' });
      socket.close(4401, 'unauthorized');
      return;
    }
    let scope: Scope;
    try {
      scope = scopeFor(grant, params, options.maxKinds ?? 32);
    } catch (error) {
      const forbidden = error instanceof ForbiddenError;
      const code = forbidden ? 'FORBIDDEN' : error instanceof InvalidPatternError ? 'INVALID_KINDS' : 'ERROR';
      send(socket, { type: 'error', code, message: (error as Error).message });
      socket.close(forbidden ? 4403 : 1008, code);
      return;
    }
    send(socket, {
      type: 'subscribed',
      kinds: scope.kinds,
      granted: grant.grant.kinds,
      cursor: params.get('cursor'),
    });
    void stream(socket, scope, params.get('cursor'), options);
  });
  const heartbeat = setInterval(() => {
    for (const socket of wss.clients) send(socket, { type: 'ping', time: Date.now() });
  }, heartbeatMs);
  wss.on('close', () => clearInterval(heartbeat));
  return wss;
}

async function stream(
  socket: WebSocket,
  scope: Scope,
  from: string | null,
  options: WsOptions,
): Promise<void> {
  const { bus, store, replayLimit = 1000, bufferSize = 1024 } = options;
  const { kinds, filter } = scope;
  const abort = new AbortController();
  socket.on('close', () => abort.abort());
  try {
    let cursor = from;
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
      await sendEvent(socket, item);
    }
  } catch (error) {
    const code = (error as { code?: string }).code ?? 'ERROR';
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
    await sendEvent(socket, event);
    count++;
  }
  send(socket, { type: 'replay_complete', count, cursor: last });
  return last;
}

function toWire(event: StoredEvent): WireEvent {
  return {
    cursor: event.cursor,
    kind: event.type,
    time: isoTime(event.time),
    agent_id: (event.meta?.agent_id as string | undefined) ?? null,
    task_id: (event.meta?.task_id as string | undefined) ?? null,
    data: event.data,
  };
}

/**
 * `toISOString()` throws past ±8.64e15 ms. The bus refuses such times at publish, but a store
 * can hold events it never validated (an older version, another writer): one of them must
 * not close every client that matches it, on every resume.
 */
function isoTime(time: number): string | null {
  const date = new Date(time);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

/** Sends one event; one that cannot be serialized is reported by cursor and skipped, never fatal. */
async function sendEvent(socket: WebSocket, event: StoredEvent): Promise<void> {
  let frame: string;
  try {
    frame = JSON.stringify({ type: 'event', event: toWire(event) } satisfies ServerMessage);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    send(socket, {
      type: 'error',
      code: 'UNSENDABLE_EVENT',
      message: `Event at cursor ${event.cursor} skipped: ${reason}`,
    });
    return;
  }
  await sendFrame(socket, frame);
}

function send(socket: WebSocket, message: ServerMessage): void {
  if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(message));
}

/** Resolves once the frame is handed to the OS: a slow client slows this loop, not server memory. */
function sendFrame(socket: WebSocket, frame: string): Promise<void> {
  if (socket.readyState !== socket.OPEN) return Promise.resolve();
  return new Promise((resolve) => socket.send(frame, () => resolve()));
}

/** The `Authorization: Bearer` header, else `?token=` (which proxies may log: prefer the header). */
function bearerToken(req: IncomingMessage, params: URLSearchParams): string | null {
  const header = req.headers.authorization;
  return header?.startsWith('Bearer ') ? header.slice(7) : params.get('token');
}
