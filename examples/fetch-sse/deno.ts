// Deno: Deno.serve takes the fetch handler as it is.
//
//   npx tsup --silent && deno run --allow-net=127.0.0.1 --allow-env=PORT,HOST examples/fetch-sse/deno.ts
import { EventBus } from 'busline';
import { createApp } from './app.js';

/** What this file uses of Deno's API (the repository's TypeScript does not know Deno's types). */
declare const Deno: {
  version: { deno: string };
  env: { get(name: string): string | undefined };
  serve(
    options: { port: number; hostname: string; onListen: (address: { port: number }) => void },
    handler: (request: Request) => Promise<Response>,
  ): unknown;
};

const bus = new EventBus();
Deno.serve(
  {
    port: Number(Deno.env.get('PORT') ?? 8787),
    hostname: Deno.env.get('HOST') ?? '127.0.0.1',
    onListen: ({ port }) =>
      console.log(JSON.stringify({ listening: port, runtime: `deno ${Deno.version.deno}` })),
  },
  createApp(bus, { retryMs: 500 }),
);
