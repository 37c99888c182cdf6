/**
 * One "process" of the multi-process test: a bus on a shared RedisEventStore that records
 * what its wildcard subscribers receive, publishes its share of events when told to, and
 * writes its recordings to a file at the end. Driven over stdin/stdout by the test.
 */
import { writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { createClient } from 'redis';
import { EventBus } from '../../src/index.js';
import { RedisEventStore } from '../../src/redis/index.js';

const [prefix, name, countArg, outFile] = process.argv.slice(2) as [string, string, string, string];
const count = Number(countArg);
export const PATTERNS = ['p.*', 'q.**', '**.y', '**'] as const;
const TYPES = ['p.a', 'p.b', 'q', 'q.x.y', 'r.y', 'r'];

const client = await createClient({ url: 'redis://127.0.0.1:6379' }).connect();
const bus = new EventBus({ store: new RedisEventStore({ client, prefix }) });
const received: Record<string, [id: string, stream: string, cursor: string][]> = {};
for (const pattern of PATTERNS) {
  const list: [string, string, string][] = (received[pattern] = []);
  bus.on(pattern, (event) => {
    list.push([event.id, event.stream, event.cursor]);
  });
}
await bus.ready();
const say = (line: string) => process.stdout.write(`${line}\n`);
say('ready');

let seed = [...name].reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7);
const random = (n: number) => {
  seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0;
  return seed % n;
};

for await (const line of createInterface({ input: process.stdin })) {
  if (line === 'publish') {
    for (let i = 0; i < count; i += 100) {
      const batch = Array.from({ length: Math.min(100, count - i) }, (_, j) => ({
        type: TYPES[random(TYPES.length)]!,
        stream: `s${random(8)}`,
        data: { from: name, n: i + j },
      }));
      const results = await bus.publishBatch(batch);
      if (results.some((r) => r.status !== 'delivered')) throw new Error('a publish was not delivered');
    }
    say('published');
  } else if (line.startsWith('expect ')) {
    const total = Number(line.slice(7));
    const deadline = Date.now() + 60_000;
    while (received['**']!.length < total && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 200)); // a late duplicate would show up here
    writeFileSync(outFile, JSON.stringify(received));
    say('written');
    await bus.close();
    await client.quit();
    process.exit(0);
  }
}
