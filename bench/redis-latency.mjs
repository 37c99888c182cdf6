// Runs only the cross-process latency measurement of the Redis scenario, RUNS times (default 3),
// and prints one line per run: quicker than the whole scenario when working on the feed path.
// Usage: node --expose-gc bench/redis-latency.mjs   (needs `npm run build` first)

import { createClient } from 'redis';
import * as busline from '../dist/index.js';
import { RedisEventStore } from '../dist/redis.js';
import { crossProcess } from './scenarios/redis.mjs';

const runs = Number(process.env.RUNS ?? 3);
const client = await createClient({ url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' }).connect();
for (let i = 0; i < runs; i++) {
  const base = `bench-lat-${process.pid}-${i}`;
  const result = await crossProcess(busline.EventBus, RedisEventStore, client, base);
  console.log(result.targets[0].text);
  console.log(`  ${result.targets[0].diagnosis ?? ''}`);
  for await (const keys of client.scanIterator({ MATCH: `{${base}*`, COUNT: 1000 })) {
    const list = Array.isArray(keys) ? keys : [keys];
    if (list.length) await client.del(list);
  }
}
await client.close();
