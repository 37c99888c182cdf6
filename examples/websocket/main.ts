/**
 * Runs the WebSocket server: `npx tsx examples/websocket/main.ts`, then connect to
 * ws://localhost:3000/ws/event-bus?kinds=task.*&token=dev-token (add &cursor=… to resume).
 * A demo publisher emits a task event every second, for agent `a` or `b`.
 *
 * Two demo tokens: `dev-token` (the operator's dashboard: everything) and `agent-a-token`
 * (agent a: its own task.* and agent.* events only). Replace them with your own grants.
 */
import { createServer } from 'node:http';
import { EventBus, MemoryEventStore } from 'busline';
import { attachEventBusWebSocket } from './ws-server.js';

const store = new MemoryEventStore();
const bus = new EventBus({ store });
// The upgrade request is a plain HTTP request: bound how long its headers may take, and how many sockets are open.
const server = createServer({ headersTimeout: 10_000, requestTimeout: 30_000 });
server.maxConnections = 1000;
attachEventBusWebSocket({
  server,
  bus,
  store,
  grants: [
    { token: process.env.TOKEN ?? 'dev-token', subject: 'operator dashboard', kinds: ['**'] },
    { token: 'agent-a-token', subject: 'agent a', kinds: ['task.**', 'agent.**'], meta: { agent_id: 'a' } },
  ],
});
const port = Number(process.env.PORT ?? 3000);
server.listen(port, () => console.log(`ws://localhost:${port}/ws/event-bus?kinds=task.*&token=dev-token`));

let n = 0;
setInterval(() => {
  n++;
  void bus.publish({
    type: n % 3 ? 'task.updated' : 'agent.heartbeat',
    data: { n },
    meta: { agent_id: n % 2 ? 'a' : 'b', task_id: `t${n % 2}` },
  });
}, 1000);
