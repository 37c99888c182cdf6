/**
 * Runs the WebSocket server: `npx tsx examples/websocket/main.ts`, then connect to
 * ws://localhost:3000/ws/event-bus?kinds=task.*&token=dev-token (add &cursor=… to resume).
 * A demo publisher emits a task event every second.
 */
import { createServer } from 'node:http';
import { EventBus, MemoryEventStore } from 'busline';
import { attachEventBusWebSocket } from './ws-server.js';

const store = new MemoryEventStore();
const bus = new EventBus({ store });
const server = createServer();
attachEventBusWebSocket({ server, bus, store, tokens: [process.env.TOKEN ?? 'dev-token'] });
const port = Number(process.env.PORT ?? 3000);
server.listen(port, () => console.log(`ws://localhost:${port}/ws/event-bus?kinds=task.*&token=dev-token`));

let n = 0;
setInterval(() => {
  n++;
  void bus.publish({
    type: n % 3 ? 'task.updated' : 'agent.heartbeat',
    data: { n },
    meta: { task_id: `t${n % 2}` },
  });
}, 1000);
