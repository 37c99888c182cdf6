// Publishes events straight into the dashboard's store file, for when the server is down
// (while it runs it holds the store: use POST /publish then). The restarted server replays
// these to every page that reconnects with a Last-Event-ID from before.
//
//   node --import tsx examples/sse-dashboard/publish.ts <store-file> <type> <json-data> [<type> <json-data> …]
import { EventBus } from 'busline';
import { FileEventStore } from './file-event-store.js';

const [storePath, ...pairs] = process.argv.slice(2);
if (storePath === undefined || pairs.length === 0 || pairs.length % 2 !== 0) {
  console.error('usage: publish.ts <store-file> <type> <json-data> [<type> <json-data> …]');
  process.exit(2);
}

const store = new FileEventStore({ path: storePath });
const bus = new EventBus({ store });
try {
  const events = [];
  for (let i = 0; i < pairs.length; i += 2) events.push({ type: pairs[i]!, data: JSON.parse(pairs[i + 1]!) });
  const results = await bus.publishBatch(events);
  console.log(JSON.stringify(results));
} finally {
  await bus.close();
  await store.close(); // the bus closes only a store it made
}
