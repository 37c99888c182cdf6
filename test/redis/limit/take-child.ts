// A separate process taking tokens from a shared Redis bucket (run by redis-rate-limiter.test.ts).
import { createClient } from 'redis';
import { RedisRateLimiter } from '../../../src/redis/index.js';

const [prefix, attempts] = [process.argv[2]!, Number(process.argv[3])];
const client = await createClient({ url: 'redis://127.0.0.1:6379' }).connect();
const limiter = new RedisRateLimiter({ client, prefix, rate: 1, intervalMs: 600_000, burst: 50 });
let allowed = 0;
for (let i = 0; i < attempts; i++) if (await limiter.tryTake('shared-key')) allowed++;
process.stdout.write(JSON.stringify({ allowed }));
await client.quit();
