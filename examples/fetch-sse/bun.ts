// Bun: Bun.serve takes the fetch handler as it is.
//
//   npx tsup --silent && bun examples/fetch-sse/bun.ts   (PORT=8787, HOST=127.0.0.1)
import { EventBus } from 'busline';
import { createApp } from './app.js';

/** What this file uses of Bun's API (the repository does not install bun-types). */
declare const Bun: {
  version: string;
  env: Record<string, string | undefined>;
  serve(options: {
    port: number;
    hostname: string;
    /** Seconds a connection may be idle; 0: never cut (an event stream is idle between events). */
    idleTimeout: number;
    fetch: (request: Request) => Promise<Response>;
  }): { port: number };
};

const bus = new EventBus();
const server = Bun.serve({
  port: Number(Bun.env.PORT ?? 8787),
  hostname: Bun.env.HOST ?? '127.0.0.1',
  // Bun closes a connection idle for 10 s by default, which would cut a quiet stream between pings.
  idleTimeout: 0,
  fetch: createApp(bus, { retryMs: 500 }),
});
console.log(JSON.stringify({ listening: server.port, runtime: `bun ${Bun.version}` }));
