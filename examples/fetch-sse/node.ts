// Node: the fetch handler through @hono/node-server, which turns node:http's request into a
// `Request` (its signal aborts when the client leaves) and streams the `Response` body.
//
//   npx tsup --silent && node --import tsx examples/fetch-sse/node.ts   (PORT=8787, HOST=127.0.0.1)
import { serve } from '@hono/node-server';
import { EventBus } from 'busline';
import { createApp } from './app.js';

const bus = new EventBus();
serve(
  {
    fetch: createApp(bus, { retryMs: 500 }),
    port: Number(process.env.PORT ?? 8787),
    hostname: process.env.HOST ?? '127.0.0.1',
  },
  // One JSON line: the test reads the port from it (PORT=0 picks a free one).
  (info) => console.log(JSON.stringify({ listening: info.port, runtime: `node ${process.version}` })),
);
