// A real node:http server around createSSEHandler for the sseEvents tests: it records each
// request (its Last-Event-ID, headers, when it came) and can drop every open stream, as a
// crashing proxy or a restarting server would.
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { EventBus } from '../../src/index.js';
import { createSSEHandler, type SSEHandler, type SSEHandlerOptions } from '../../src/sse/index.js';

export interface SeenRequest {
  url: string;
  lastEventId: string | undefined;
  headers: IncomingMessage['headers'];
  at: number;
}

export interface ClientTestServer {
  url: string;
  handler: SSEHandler;
  requests: SeenRequest[];
  /** Destroys every open response: the client sees its connection drop mid-stream. */
  dropAll(): void;
  close(): Promise<void>;
}

/**
 * Streams `bus` at `/events`; the pattern comes from the `pattern` query parameters (what
 * sseEvents sends). `route` may answer a request itself (a 503, a 404…) by returning true.
 */
export async function startClientTestServer(
  bus: EventBus,
  options: Partial<SSEHandlerOptions> = {},
  route?: (req: IncomingMessage, res: ServerResponse, index: number) => boolean,
): Promise<ClientTestServer> {
  const handler = createSSEHandler(bus, {
    pattern: (req) => {
      const patterns = new URL(req.url ?? '/', 'http://x').searchParams.getAll('pattern');
      return patterns.length === 0 ? '**' : patterns;
    },
    heartbeatMs: 0,
    ...options,
  });
  const requests: SeenRequest[] = [];
  const open = new Set<ServerResponse>();
  const server: Server = createServer((req, res) => {
    const header = req.headers['last-event-id'];
    const lastEventId = typeof header === 'string' ? header : undefined;
    requests.push({ url: req.url ?? '', lastEventId, headers: req.headers, at: Date.now() });
    if (route?.(req, res, requests.length - 1)) return;
    open.add(res);
    res.once('close', () => open.delete(res));
    handler(req, res);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/events`,
    handler,
    requests,
    dropAll: () => {
      for (const res of open) res.destroy();
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
