/**
 * Runs the ingest server: `npx tsx examples/http-ingest/main.ts`.
 * PORT (8081) and API_KEYS: `id:key` pairs, comma-separated (default `dev:dev-key`); a bare
 * key gets an id derived from it. Then:
 *   curl -s localhost:8081/api/events -H 'X-API-Key: dev-key' -H 'content-type: application/json' \
 *     -d '{"events":[{"type":"tool_start","content":"Starting nmap scan...","operation_id":"OP_123"}]}'
 */
import { EventBus } from 'busline';
import { createIngestServer } from './ingest-server.js';

// The rate limit is the server's, per API key (see ingest-server.ts), not the bus's per stream.
const bus = new EventBus({ maxEventBytes: 16 * 1024 });
bus.on('**', (event) =>
  console.log(`${event.meta?.key_id}  ${event.stream}  ${event.type}  ${JSON.stringify(event.data)}`),
);

const port = Number(process.env.PORT ?? 8081);
const pairs = (process.env.API_KEYS ?? 'dev:dev-key').split(',').map((entry) => entry.split(':'));
const apiKeys = pairs.every((pair) => pair.length === 2)
  ? Object.fromEntries(pairs as [string, string][])
  : pairs.map((pair) => pair.join(':'));
createIngestServer({ bus, apiKeys }).listen(port, () =>
  console.log(`ingest listening on http://localhost:${port}/api/events`),
);
