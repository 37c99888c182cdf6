/**
 * One worker process of the consumer-group SIGKILL test: a bus on a shared RedisEventStore
 * consuming `job.*` in group `workers`. It reports on stdout, line by line (a pipe write is
 * synchronous on Linux, so a line written before a SIGKILL reaches the test):
 *   `ready`          the consumer joined the group
 *   `start <id>`     a handler started on an event
 *   `done <id>`      the handler finished its work (the ack follows)
 * and closes gracefully on `close` from stdin (`closed`).
 */
import { createInterface } from 'node:readline';
import { createClient } from 'redis';
import { EventBus } from '../../src/index.js';
import { RedisEventStore } from '../../src/redis/index.js';

const [prefix, concurrency, ackTimeoutMs] = process.argv.slice(2) as [string, string, string];

const client = createClient({ url: 'redis://127.0.0.1:6379' });
client.on('error', () => {});
await client.connect();
const bus = new EventBus({ store: new RedisEventStore({ client, prefix, groupPollMs: 100 }) });
await bus.ready();
const say = (line: string) => process.stdout.write(`${line}\n`);

const consumer = await bus.consume(
  'job.*',
  async (event) => {
    say(`start ${event.id}`);
    await new Promise((resolve) => setTimeout(resolve, 1 + Math.random() * 4)); // the work
    say(`done ${event.id}`);
  },
  {
    group: 'workers',
    from: 'start',
    concurrency: Number(concurrency),
    ackTimeoutMs: Number(ackTimeoutMs),
    retryDelayMs: 10,
  },
);
say('ready');

for await (const line of createInterface({ input: process.stdin })) {
  if (line === 'close') {
    await consumer.close();
    await bus.close();
    await client.quit();
    say('closed');
    process.exit(0);
  }
}
