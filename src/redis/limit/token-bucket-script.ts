import { createHash } from 'node:crypto';
import type { LuaScript } from '../store/lua-scripts.js';

/**
 * One atomic token-bucket step, so processes sharing a Redis share one budget. Time comes
 * from the Redis server (TIME), not from each process's clock, so skewed clocks cannot
 * mint tokens. A bucket's key expires once it would have refilled to full: an idle key is
 * indistinguishable from an absent one, so Redis never accumulates buckets.
 *
 * KEYS[1] bucket hash · ARGV rate (tokens/ms), burst, n · returns { allowed (0|1), waitMs }
 */
const source = `#!lua
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local n = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1]) or burst
local ts = tonumber(state[2]) or now
if now > ts then
  tokens = math.min(burst, tokens + (now - ts) * rate)
  ts = now
end
local allowed, wait = 0, 0
if tokens >= n then
  tokens = tokens - n
  allowed = 1
else
  wait = math.ceil((n - tokens) / rate)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(ts))
redis.call('PEXPIRE', KEYS[1], math.ceil((burst - tokens) / rate) + 1000)
return { allowed, wait }
`;

export const TOKEN_BUCKET: LuaScript = {
  name: 'token-bucket',
  source,
  sha: createHash('sha1').update(source).digest('hex'),
};
