import { connect, type Socket } from 'node:net';
import { SSECollector } from './parse-sse.js';

export interface RawResponse {
  socket: Socket;
  head: string;
  body: SSECollector;
  /** Settles when the connection closes or the chunked body ends. */
  ended: Promise<void>;
}

const opened: Socket[] = [];

/** Destroys every socket `request` opened (for afterEach). */
export function destroyClients(): void {
  for (const socket of opened.splice(0)) socket.destroy();
}

/** A TCP port on 127.0.0.1, or the path of a Unix socket. */
export type Target = number | string;

/** Opens a connection and sends a GET; the socket is the caller's (pause it to stop reading). */
export function send(target: Target, path: string, headers: Record<string, string> = {}): Socket {
  const socket = typeof target === 'number' ? connect(target, '127.0.0.1') : connect(target);
  opened.push(socket);
  const lines = [
    `GET ${path} HTTP/1.1`,
    'Host: localhost',
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
  ];
  socket.write(`${lines.join('\r\n')}\r\n\r\n`);
  return socket;
}

/**
 * A raw HTTP/1.1 client on a socket, so a test controls exactly when bytes are read. The body
 * is chunked; for the SSE parser the chunk-size lines are removed.
 */
export function request(
  target: Target,
  path: string,
  headers: Record<string, string> = {},
): Promise<RawResponse> {
  const socket = send(target, path, headers);
  return new Promise((resolve, reject) => {
    let raw: Buffer = Buffer.alloc(0);
    const body = new SSECollector();
    let chunked: Buffer = Buffer.alloc(0);
    let head: string | undefined;
    let endedResolve: () => void;
    const ended = new Promise<void>((r) => (endedResolve = r));
    socket.on('error', reject);
    socket.on('close', () => endedResolve());
    socket.on('data', (data: Buffer) => {
      if (head === undefined) {
        raw = Buffer.concat([raw, data]);
        const end = raw.indexOf('\r\n\r\n');
        if (end === -1) return;
        head = raw.subarray(0, end).toString('latin1');
        chunked = raw.subarray(end + 4);
        resolve({ socket, head, body, ended });
      } else {
        chunked = Buffer.concat([chunked, data]);
      }
      chunked = dechunk(chunked, body, () => endedResolve());
    });
  });
}

/** Moves complete chunks of a chunked body into `body`; returns the unconsumed bytes. */
function dechunk(buffer: Buffer, body: SSECollector, onLast: () => void): Buffer {
  let rest = buffer;
  for (;;) {
    const lineEnd = rest.indexOf('\r\n');
    if (lineEnd === -1) return rest;
    const size = Number.parseInt(rest.subarray(0, lineEnd).toString('latin1'), 16);
    if (rest.length < lineEnd + 2 + size + 2) return rest;
    if (size === 0) {
      onLast();
      return rest.subarray(lineEnd + 4);
    }
    body.push(rest.subarray(lineEnd + 2, lineEnd + 2 + size).toString('utf8'));
    rest = rest.subarray(lineEnd + 2 + size + 2);
  }
}
