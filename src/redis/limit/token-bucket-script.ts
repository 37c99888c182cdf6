import { type LuaScript, script } from '../store/lua-scripts.js';

/** Refills the bucket from the Redis server's clock; shared by both scripts. */
const refill = `
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1]) or burst
local ts = tonumber(state[2]) or now
if now > ts then
  tokens = math.min(burst, tokens + (now - ts) * rate)
  ts = now
end
`;

/** Saves the bucket; the key expires once it would have refilled to full. */
const save = `
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(ts))
redis.call('PEXPIRE', KEYS[1], math.ceil((burst - tokens) / rate) + 1000)
`;

/**
 * One atomic token-bucket step, so processes sharing a Redis share one budget. Time comes
 * from the Redis server (TIME), not from each process's clock, so skewed clocks cannot
 * mint tokens. A bucket's key expires once it would have refilled to full: an idle key is
 * indistinguishable from an absent one, so Redis never accumulates buckets.
 *
 * Takes several counts in order, stopping at the first the bucket cannot cover, so one call
 * serves as many of a process's queued takes as the tokens allow (`tryTake` passes one).
 *
 * KEYS[1] bucket hash · ARGV rate (tokens/ms), burst, n1, n2… ·
 * returns { served (how many counts were taken), waitMs (until the first one not served
 * could be, 0 if all were), tokens left (a string: Lua numbers reach Redis truncated) }
 */
const takeSource = `#!lua${refill}
local served, wait = 0, 0
for i = 3, #ARGV do
  local n = tonumber(ARGV[i])
  if tokens < n then
    wait = math.ceil((n - tokens) / rate)
    break
  end
  tokens = tokens - n
  served = served + 1
end
${save}
return { served, wait, tostring(tokens) }
`;

/**
 * Puts back tokens taken for a `take` that was aborted while its call was in flight
 * (capped at burst, like any refill). KEYS[1] bucket hash · ARGV rate, burst, n ·
 * returns the tokens now in the bucket (a string).
 */
const giveBackSource = `#!lua${refill}
tokens = math.min(burst, tokens + tonumber(ARGV[3]))
${save}
return tostring(tokens)
`;

export const TOKEN_BUCKET: LuaScript = script('token-bucket', takeSource);
export const TOKEN_BUCKET_GIVE_BACK: LuaScript = script('token-bucket-give-back', giveBackSource);
