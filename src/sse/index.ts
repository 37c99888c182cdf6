// Entry point of `busline/sse`: Server-Sent Events for browsers (EventSource), web Response and node:http.
export {
  type FormatSSEOptions,
  formatSSE,
  SSE_EVENTS,
  type SSEEventPayload,
} from './format-sse.js';
export {
  createSSEHandler,
  SSE_HEADERS,
  type SSEHandler,
  type SSEHandlerOptions,
  type SSEHandlerStats,
} from './sse-handler.js';
export { SSE_DEFAULTS, type SSEStreamOptions, sseStream } from './sse-stream.js';
