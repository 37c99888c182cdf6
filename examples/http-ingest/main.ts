/**
 * Runs the ingest server: `npx tsx examples/http-ingest/main.ts` (PORT, API_KEYS env vars).
 * Then: curl -s localhost:8081/api/events -H 'X-API-Key: dev-key' -H 'content-type: application/json' \
 *   -d '{"events":[{"type":"tool_start","content":"Starting nmap scan...","operation_id":"OP_123"}]}'
 */
import { EventBus } from 'busline';
import { createIngestServer } from './ingest-server.js';

const bus = new EventBus({ maxEventBytes: 16 * 1024, rateLimit: { rate: 1000, intervalMs: 1000 } });
bus.on('**', (event) => console.log(`${event.stream}  ${event.type}  ${JSON.stringify(event.data)}`));

const port = Number(process.env.PORT ?? 8081);
const apiKeys = (process.env.API_KEYS ?? 'dev-key').split(',');
createIngestServer({ bus, apiKeys }).listen(port, () =>
  console.log(`ingest listening on http://localhost:${port}/api/events`),
);
