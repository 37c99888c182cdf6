import { createClient } from 'redis';
import type { NodeRedisClient } from '../../redis/store/redis-fixtures.js';

/**
 * The Redis a run talks to, and the real faults it injects there: connections of one bus
 * killed from an admin connection (`CLIENT KILL ID`, or `CLIENT KILL TYPE normal` on a server
 * of the test's own), and, through `OwnRedis`, `kill -9` of the server itself.
 */

/** A node-redis client that reconnects quickly (at most every 500 ms); `name` is set on every connection. */
export async function connectClient(url: string, name: string): Promise<NodeRedisClient> {
  const client = createClient({
    url,
    name,
    socket: { reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 500) },
  }) as unknown as NodeRedisClient;
  client.on('error', () => {});
  await client.connect();
  return client;
}

export interface ClientInfo {
  id: string;
  name: string;
  cmd: string;
  flags: string;
}

/** CLIENT LIST, parsed. */
export async function clientList(admin: NodeRedisClient): Promise<ClientInfo[]> {
  const reply = String(await admin.sendCommand(['CLIENT', 'LIST']));
  return reply
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const fields = new Map<string, string>();
      for (const part of line.trim().split(' ')) {
        const eq = part.indexOf('=');
        if (eq > 0) fields.set(part.slice(0, eq), part.slice(eq + 1));
      }
      return {
        id: fields.get('id') ?? '',
        name: fields.get('name') ?? '',
        cmd: fields.get('cmd') ?? '',
        flags: fields.get('flags') ?? '',
      };
    });
}

/** Rejects after `ms` (for calls that might hang while Redis is down). */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A bus's connections: its client's own (the command connection), whose id is learnt with CLIENT ID. */
export interface BusConnections {
  client: NodeRedisClient;
  /** CLIENT LIST name of both connections (the store's blocking one is the client's `duplicate()`). */
  name: string;
  /** The command connection's id as last learnt (it changes when node-redis reconnects). */
  commandId: string | undefined;
}

export async function learnCommandId(bus: BusConnections): Promise<string> {
  bus.commandId = String(await within(bus.client.sendCommand(['CLIENT', 'ID']), 1000, 'CLIENT ID'));
  return bus.commandId;
}

/**
 * Kills connections of one bus with CLIENT KILL ID. `command`: the client's own connection;
 * `blocking`: the others of that name, i.e. the tail's. The command connection's id is known in
 * advance, so nothing is sent through it at the moment of the kill (commands of the bus may be
 * in flight); only after a reconnect is it learnt again first. Returns the ids killed (none when
 * the target does not exist right now, e.g. while it reconnects).
 */
export async function killBusConnection(
  admin: NodeRedisClient,
  bus: BusConnections,
  which: 'command' | 'blocking',
  /** Runs once the target is known, just before the KILL is sent (e.g. to put commands in flight on it). */
  beforeKill?: () => Promise<void>,
): Promise<string[]> {
  let mine = (await clientList(admin)).filter((c) => c.name === bus.name);
  if (bus.commandId === undefined || !mine.some((c) => c.id === bus.commandId)) {
    await learnCommandId(bus);
    mine = (await clientList(admin)).filter((c) => c.name === bus.name);
  }
  const targets = mine.filter((c) => (which === 'command' ? c.id === bus.commandId : c.id !== bus.commandId));
  await beforeKill?.();
  for (const target of targets) await admin.sendCommand(['CLIENT', 'KILL', 'ID', target.id]);
  return targets.map((t) => `${t.id}(${t.cmd}${t.flags.includes('b') ? ', blocked' : ''})`);
}

/** CLIENT KILL TYPE normal: every normal connection but the admin's own. Only on a server of the test's own. */
export async function killAllNormalClients(admin: NodeRedisClient): Promise<number> {
  return Number(await admin.sendCommand(['CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes']));
}
