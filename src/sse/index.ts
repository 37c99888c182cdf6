// Entry point of `busline/sse`: Server-Sent Events for browsers (EventSource, or the typed client
// `sseEvents` over fetch), web Response and node:http. Only the node:http handler runs on Node alone,
// and even its types are structural: these declarations name no `node:` module.

export { UnexpectedResponseError } from '../errors.js';
export type { SSEMessage } from './client/event-stream-parser.js';
export { sseEvents } from './client/sse-events.js';
export {
  SSE_CLIENT_DEFAULTS,
  type SSEEventsOptions,
  type SSEFetch,
  type SSEHeaders,
} from './client/sse-events-options.js';
export {
  type FormatSSEOptions,
  formatSSE,
  SSE_EVENTS,
  type SSEEventPayload,
} from './format-sse.js';
export type { SSEIncomingRequest, SSEServerResponse } from './node-http-types.js';
export {
  createSSEHandler,
  SSE_HEADERS,
  type SSEHandler,
  type SSEHandlerOptions,
  type SSEHandlerStats,
  type SSERequestPattern,
} from './sse-handler.js';
export { SSE_DEFAULTS, type SSEStreamOptions, sseStream } from './sse-stream.js';
