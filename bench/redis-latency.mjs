// Runs only the cross-process latency measurement of the Redis scenario (its busline and raw-floor
// passes) and prints the target line and the per-pass table: quicker than the whole scenario when
// working on the feed path. Usage: npm run build && node bench/redis-latency.mjs

import { createClient } from 'redis';
import { deleteKeys } from './redis-keys.mjs';
import { crossProcess } from './scenarios/redis.mjs';

const client = await createClient({ url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' }).connect();
const base = `bench-lat-${process.pid}`;
try {
  const result = await crossProcess(base);
  const [target] = result.targets;
  console.log(`${target.pass ? 'PASS' : 'MISS'}  ${target.text}`);
  for (const block of result.extra) console.log(`\n${block}`);
} finally {
  await deleteKeys(client, base);
  await client.close();
}
