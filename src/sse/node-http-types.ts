/**
 * What `createSSEHandler` uses of node:http's request and response, as structural types: the
 * declarations of `busline/sse` then name no `node:http`, so a browser or Workers project can
 * use `sseEvents` and `sseStream` without @types/node. Node's `IncomingMessage` and
 * `ServerResponse` (and Express's, Fastify's `raw`) are assignable to them.
 */

/** The request: only its URL (the query's `lastEventId`) and headers (`Last-Event-ID`) are read. */
export interface SSEIncomingRequest {
  url?: string | undefined;
  headers: Readonly<Record<string, string | readonly string[] | undefined>>;
}

/** The response: headers, writes with back-pressure, and the events that end a stream. */
export interface SSEServerResponse {
  readonly destroyed: boolean;
  readonly closed: boolean;
  readonly writableEnded: boolean;
  readonly writableFinished: boolean;
  writeHead(statusCode: number, headers: Record<string, string>): unknown;
  flushHeaders(): void;
  /** False: the socket's buffer is full, wait for `'drain'`. */
  write(chunk: Uint8Array): boolean;
  end(chunk?: string): unknown;
  destroy(): unknown;
  on(event: 'drain' | 'finish' | 'close', listener: () => void): unknown;
  once(event: 'close', listener: () => void): unknown;
  off(event: 'drain' | 'finish' | 'close', listener: () => void): unknown;
}
