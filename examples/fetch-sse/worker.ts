// Cloudflare Workers: a module Worker without nodejs_compat. The bus lives in one Durable
// Object and the Worker forwards every request to it, because a Worker's requests cannot wake
// each other: an event published in one request must reach streams opened by others, and only
// inside one object may one request resolve another's promises (workerd otherwise cancels the
// waiting stream with "Promise will never complete"). The object's fetch is app.ts, unchanged.
//
//   wrangler.toml: durable_objects.bindings = [{ name = "BUS", class_name = "BusObject" }]
//   npx wrangler dev examples/fetch-sse/worker.ts      (the test runs it in miniflare 3)
import { EventBus } from 'busline';
import { createApp } from './app.js';

/** What this file uses of the Workers runtime's types (the repository does not install them). */
interface DurableObjectNamespace {
  idFromName(name: string): unknown;
  get(id: unknown): { fetch(request: Request): Promise<Response> };
}

export class BusObject {
  // Made on the first request: a constructor must not start timers, and the bus may.
  #app: ((request: Request) => Promise<Response>) | undefined;

  fetch(request: Request): Promise<Response> {
    this.#app ??= createApp(new EventBus(), { retryMs: 500 });
    return this.#app(request);
  }
}

export default {
  fetch(request: Request, env: { BUS: DurableObjectNamespace }): Promise<Response> {
    // One object for the whole bus: every stream and every publish meets there.
    return env.BUS.get(env.BUS.idFromName('bus')).fetch(request);
  },
};
