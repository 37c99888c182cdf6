import { createHash } from 'node:crypto';

/** A Lua script with its SHA-1, for EVALSHA (EVAL when Redis answers NOSCRIPT). */
export interface LuaScript {
  readonly name: string;
  readonly source: string;
  readonly sha: string;
}

function script(name: string, source: string): LuaScript {
  return { name, source, sha: createHash('sha1').update(source).digest('hex') };
}

// Every script runs atomically. The `#!lua` shebang (Redis 7) makes Redis refuse a writing script
// up front when it is out of memory, instead of failing halfway through (scripts do not roll back).
// Keys that depend on data (a trimmed event's stream) are built from the `{prefix}:` base: they
// share the hash tag, so they are in the script's Cluster slot.

/** Shared helpers: id order, marks that only grow, and removing the oldest events of the log. */
const HELPERS = `
local function idLess(a, b)
  local am, as = string.match(a, '^(%d+)-(%d+)$')
  local bm, bs = string.match(b, '^(%d+)-(%d+)$')
  am, bm = tonumber(am), tonumber(bm)
  if am ~= bm then return am < bm end
  return tonumber(as) < tonumber(bs)
end

local function maxId(a, b)
  if a == '' then return b end
  if b == '' or idLess(b, a) then return a end
  return b
end

-- Raises the mark in \`key\` to \`id\` (marks never go down); \`ttl\` in ms, or '' for none.
local function raise(key, id, ttl)
  local current = redis.call('GET', key)
  if current and not idLess(current, id) then return end
  if ttl ~= '' and tonumber(ttl) > 0 then
    redis.call('SET', key, id, 'PX', ttl)
  else
    redis.call('SET', key, id)
  end
end

local function field(fields, name)
  for i = 1, #fields, 2 do
    if fields[i] == name then return fields[i + 1] end
  end
end

-- Removes \`entries\` (the oldest events of the log, as XRANGE returned them) from the log, the id
-- index and their streams; records the trim marks. An emptied stream is deleted and its last id
-- becomes the \`dropped\` mark, which a re-created stream starts from.
local function removeOldest(K, entries)
  for _, entry in ipairs(entries) do
    local rid, fields = entry[1], entry[2]
    local token = field(fields, 's')
    local streamKey = K.base .. 's:' .. token
    local markKey = K.base .. 't:' .. token
    redis.call('HDEL', K.ids, field(fields, 'i'))
    if redis.call('XDEL', streamKey, rid) == 1 then
      if redis.call('XLEN', streamKey) == 0 then
        redis.call('DEL', streamKey, markKey)
        redis.call('ZREM', K.streams, token)
        raise(K.dropped, rid, '')
      else
        raise(markKey, rid, tostring(redis.call('PTTL', streamKey)))
      end
    elseif redis.call('EXISTS', streamKey) == 0 then
      redis.call('ZREM', K.streams, token)
      raise(K.dropped, rid, '')
    end
  end
  if #entries > 0 then
    redis.call('XTRIM', K.log, 'MAXLEN', '=', redis.call('XLEN', K.log) - #entries)
    raise(K.logMark, entries[#entries][1], '')
  end
  return #entries
end
`;

/**
 * KEYS: epoch, log, ids, streams, log mark, dropped.
 * ARGV: epoch candidate, key base, maxEventsPerStream, maxEvents, retention cutoff (ms, or ''),
 * stream key ttl (ms, or ''), most aged events to remove, then id, stream token, JSON for each
 * event. Returns the epoch, then the Redis id and a duplicate flag per event.
 */
export const APPEND = script(
  'append',
  `#!lua
local K = { epoch = KEYS[1], log = KEYS[2], ids = KEYS[3], streams = KEYS[4], logMark = KEYS[5],
  dropped = KEYS[6], base = ARGV[2] }
${HELPERS}
local epoch = redis.call('GET', K.epoch)
if not epoch then
  epoch = ARGV[1]
  redis.call('SET', K.epoch, epoch)
end
local maxPerStream, maxEvents = tonumber(ARGV[3]), tonumber(ARGV[4])
local cutoff, ttl, ageBudget = ARGV[5], ARGV[6], ARGV[7]
local reply = { epoch }
local added, newest, tokens = {}, {}, {}
for i = 8, #ARGV, 3 do
  local id, token, json = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local rid = added[id] or redis.call('HGET', K.ids, id)
  if rid then
    reply[#reply + 1] = rid
    reply[#reply + 1] = 1
  else
    local streamKey = K.base .. 's:' .. token
    if not newest[token] then
      tokens[#tokens + 1] = token
      if redis.call('EXISTS', streamKey) == 0 then
        -- A new or re-created stream: events of an earlier stream of that name may be gone.
        local mark = redis.call('GET', K.dropped) or ''
        if cutoff ~= '' then mark = maxId(mark, cutoff .. '-0') end
        if mark ~= '' then raise(K.base .. 't:' .. token, mark, ttl) end
      end
    end
    rid = redis.call('XADD', K.log, '*', 'i', id, 's', token, 'e', json)
    redis.call('XADD', streamKey, rid, 'i', id, 'e', json)
    redis.call('HSET', K.ids, id, rid)
    added[id] = rid
    newest[token] = rid
    reply[#reply + 1] = rid
    reply[#reply + 1] = 0
  end
end
for _, token in ipairs(tokens) do
  local streamKey, markKey = K.base .. 's:' .. token, K.base .. 't:' .. token
  local length = redis.call('XLEN', streamKey)
  if length > maxPerStream then
    local gone = redis.call('XRANGE', streamKey, '-', '+', 'COUNT', length - maxPerStream)
    redis.call('XTRIM', streamKey, 'MAXLEN', '=', maxPerStream)
    raise(markKey, gone[#gone][1], ttl)
  end
  if ttl ~= '' then
    redis.call('PEXPIRE', streamKey, ttl)
    redis.call('PEXPIRE', markKey, ttl)
  end
  -- Scored by the time of its newest event (Redis's clock, as in the ids), like the cutoff.
  redis.call('ZADD', K.streams, string.match(newest[token], '^%d+'), token)
end
local length = redis.call('XLEN', K.log)
if length > maxEvents then
  removeOldest(K, redis.call('XRANGE', K.log, '-', '+', 'COUNT', length - maxEvents))
end
if cutoff ~= '' then
  removeOldest(K, redis.call('XRANGE', K.log, '-', '(' .. cutoff .. '-0', 'COUNT', ageBudget))
end
return reply
`,
);

/**
 * KEYS: epoch, the view (log or stream key), its trim mark, dropped.
 * ARGV: the cursor's epoch (or ''), 'f' or 'b', range start, range end, count, '1' to return
 * the truncation facts, then the bounds of the hidden range (events past `after` but older than
 * the retention cutoff; '' to skip). Returns { epoch, 1 } when the cursor's epoch is not current,
 * else { epoch, 0, entries [, mark, dropped, view exists, hidden events exist] }.
 */
export const READ = script(
  'read',
  `#!lua flags=no-writes
local epoch = redis.call('GET', KEYS[1]) or ''
if ARGV[1] ~= '' and ARGV[1] ~= epoch then return { epoch, 1 } end
local entries
if ARGV[2] == 'f' then
  entries = redis.call('XRANGE', KEYS[2], ARGV[3], ARGV[4], 'COUNT', ARGV[5])
else
  entries = redis.call('XREVRANGE', KEYS[2], ARGV[3], ARGV[4], 'COUNT', ARGV[5])
end
if ARGV[6] ~= '1' then return { epoch, 0, entries } end
local hidden = 0
if ARGV[7] ~= '' and #redis.call('XRANGE', KEYS[2], ARGV[7], ARGV[8], 'COUNT', 1) > 0 then hidden = 1 end
return { epoch, 0, entries, redis.call('GET', KEYS[3]) or '', redis.call('GET', KEYS[4]) or '',
  redis.call('EXISTS', KEYS[2]), hidden }
`,
);

/**
 * KEYS: log, ids, streams, log mark, dropped. ARGV: key base, cutoff (ms), most events to remove.
 * Removes events older than the cutoff (oldest first) and forgets streams idle since before it.
 * Returns how many events it removed.
 */
export const CLEANUP = script(
  'cleanup',
  `#!lua
local K = { log = KEYS[1], ids = KEYS[2], streams = KEYS[3], logMark = KEYS[4], dropped = KEYS[5],
  base = ARGV[1] }
${HELPERS}
local removed = removeOldest(K, redis.call('XRANGE', K.log, '-', '(' .. ARGV[2] .. '-0', 'COUNT', ARGV[3]))
redis.call('ZREMRANGEBYSCORE', K.streams, '-inf', '(' .. ARGV[2])
return removed
`,
);

/**
 * KEYS: epoch, log, log mark. ARGV: epoch candidate. Where a tail starts: the epoch (created if
 * missing), the id of the newest event in the log (or ''), and the log's trim mark (or '').
 */
export const TAIL_START = script(
  'tail-start',
  `#!lua
local epoch = redis.call('GET', KEYS[1])
if not epoch then
  epoch = ARGV[1]
  redis.call('SET', KEYS[1], epoch)
end
local newest = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)
local last = ''
if #newest > 0 then last = newest[1][1] end
return { epoch, last, redis.call('GET', KEYS[3]) or '' }
`,
);
