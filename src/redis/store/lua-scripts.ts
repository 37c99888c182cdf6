import { createHash } from 'node:crypto';

/** A Lua script with its SHA-1, for EVALSHA (EVAL when Redis answers NOSCRIPT). */
export interface LuaScript {
  readonly name: string;
  readonly source: string;
  readonly sha: string;
}

export function script(name: string, source: string): LuaScript {
  return { name, source, sha: createHash('sha1').update(source).digest('hex') };
}

/** `ensureEpoch(key, candidate)`: the store's epoch, created from the candidate by the first writer. */
export const ENSURE_EPOCH = `
local function ensureEpoch(key, candidate)
  local epoch = redis.call('GET', key)
  if epoch then return epoch end
  redis.call('SET', key, candidate)
  return candidate
end
`;

/** `idLess(a, b)`: Redis stream ids in order. */
export const ID_LESS = `
-- Ids \`ms-seq\` (no leading zeros) compared as numbers of any size, with few calls into C (each
-- costs): a shorter part is smaller; digit strings of one length compare as text.
local function idLess(a, b)
  local ad, bd = string.find(a, '-', 1, true), string.find(b, '-', 1, true)
  if ad ~= bd then return ad < bd end
  if #a == #b or string.sub(a, 1, ad) ~= string.sub(b, 1, bd) then return a < b end
  return #a < #b
end
`;

/** `field(fields, name)`: one field's value in a stream entry's flat `{ name, value, … }` list. */
export const FIELD = `
local function field(fields, name)
  for i = 1, #fields, 2 do
    if fields[i] == name then return fields[i + 1] end
  end
end
`;

/**
 * \`packedEnds(value)\`: where the packed entry's header parts end (log-entry.ts: id, token and
 * type, each followed by a newline, then the JSON), as the positions of its first three
 * newlines; nil when it has fewer, or no id. Callers cut only the parts they need.
 */
export const PACKED_ENDS = `
local function packedEnds(v)
  local a = string.find(v, '\\n', 1, true)
  if not a or a == 1 then return nil end
  local b = string.find(v, '\\n', a + 1, true)
  local c = b and string.find(v, '\\n', b + 1, true)
  if not c then return nil end
  return a, b, c
end
`;

/**
 * \`entryIdToken(fields)\`: the event id and stream token of a log entry, in either format
 * (log-entry.ts): the packed \`p\` field, or the older \`i\`, \`s\`, … fields. nil, nil for an
 * entry that has neither. Needs FIELD and PACKED_ENDS.
 */
export const ENTRY_ID_TOKEN = `
local function entryIdToken(fields)
  if fields[1] == 'p' then
    local v = fields[2]
    local a, b = packedEnds(v)
    if not a then return nil, nil end
    return string.sub(v, 1, a - 1), string.sub(v, a + 1, b - 1)
  end
  if fields[1] == 'i' and fields[3] == 's' then return fields[2], fields[4] end
  return field(fields, 'i'), field(fields, 's')
end
`;

// Every script runs atomically. The `#!lua` shebang (Redis 7) makes Redis refuse a writing script
// up front when it is out of memory, instead of failing halfway through (scripts do not roll back).
// Keys that depend on data (a trimmed event's stream) are built from the `{prefix}:` base: they
// share the hash tag, so they are in the script's Cluster slot.

/** Shared helpers: id order, marks that only grow, batched commands, removing the oldest events. */
const HELPERS = `
${ID_LESS}
local function maxId(a, b)
  if a == '' then return b end
  if b == '' or idLess(b, a) then return a end
  return b
end

-- Raises the mark in \`key\` to \`id\` (marks never go down); \`ttl\` in ms, or '' for none. One SET
-- with GET: when the mark was already higher (rare), it is put back.
local function raise(key, id, ttl)
  local px = ttl ~= '' and tonumber(ttl) > 0
  local old
  if px then old = redis.call('SET', key, id, 'PX', ttl, 'GET') else old = redis.call('SET', key, id, 'GET') end
  if old and idLess(id, old) then
    if px then redis.call('SET', key, old, 'PX', ttl) else redis.call('SET', key, old) end
  end
end

-- One command with \`args\` appended, split so that unpack stays within Lua's stack limit.
-- Returns the sum of the integer replies, and the last reply.
local CHUNK = 4000
local function variadic(command, key, args)
  local total, reply = 0, 0
  for from = 1, #args, CHUNK do
    reply = redis.call(command, key, unpack(args, from, math.min(from + CHUNK - 1, #args)))
    total = total + reply
  end
  return total, reply
end

${FIELD}
${PACKED_ENDS}
${ENTRY_ID_TOKEN}
-- Removes \`entries\` (the oldest events of the log, as XRANGE returned them) from the log, the id
-- index and their streams; records the trim marks. An emptied stream is deleted and its last id
-- becomes the \`dropped\` mark, which a re-created stream starts from. Batched: one HDEL, and per
-- stream one XDEL and one mark (a stream key holds the newest events of its stream, so what is
-- removed from it is always its oldest, and its newest removed id is the mark).
local function removeOldest(K, entries)
  if #entries == 0 then return 0 end
  local ids, byToken, tokens = {}, {}, {}
  for _, entry in ipairs(entries) do
    -- An entry that is not an event (written by something else) only leaves the log.
    local id, token = entryIdToken(entry[2])
    if id and token then
      ids[#ids + 1] = id
      local rids = byToken[token]
      if not rids then
        rids = {}
        byToken[token] = rids
        tokens[#tokens + 1] = token
      end
      rids[#rids + 1] = entry[1]
    end
  end
  variadic('HDEL', K.ids, ids)
  local dropped = ''
  for _, token in ipairs(tokens) do
    local rids = byToken[token]
    local newest = rids[#rids]
    local streamKey, listKey = K.base .. 's:' .. token, K.base .. 'l:' .. token
    local removed = variadic('XDEL', streamKey, rids)
    if removed > 0 then
      if redis.call('XLEN', streamKey) == 0 then
        redis.call('DEL', streamKey, K.base .. 't:' .. token, listKey)
        redis.call('ZREM', K.streams, token)
        dropped = maxId(dropped, newest)
      else
        redis.call('LTRIM', listKey, removed, -1)
        raise(K.base .. 't:' .. token, newest, tostring(redis.call('PTTL', streamKey)))
      end
    elseif redis.call('EXISTS', streamKey) == 0 then
      redis.call('DEL', listKey)
      redis.call('ZREM', K.streams, token)
      dropped = maxId(dropped, newest)
    end
  end
  if dropped ~= '' then raise(K.dropped, dropped, '') end
  redis.call('XTRIM', K.log, 'MAXLEN', '=', redis.call('XLEN', K.log) - #entries)
  raise(K.logMark, entries[#entries][1], '')
  return #entries
end
`;

/**
 * KEYS: epoch, log, ids, streams, log mark, dropped.
 * ARGV: epoch candidate, key base, maxEventsPerStream, maxEvents, retention cutoff (ms, or ''),
 * stream key ttl (ms, or ''), most aged events to remove, then id, stream token and the packed
 * entry (log-entry.ts) for each event. Returns the epoch, the Redis ids of the events joined
 * by spaces, and their duplicate flags as one string of '0' and '1'.
 *
 * A log entry and its copy in the stream key hold one field, `p`: the event id, stream token,
 * event type (as the bus wrote it: consumer groups match it without reading the JSON) and the
 * JSON, joined by newlines (log-entry.ts says why one field).
 *
 * Its cost is mostly the commands it calls (and Lua's conversion of their replies, which for
 * stream entries costs more than the command), so per event there are only the two XADDs: the id
 * index is read with one HGET/HMGET and written with one HSET per call, a stream's length is read
 * once (XLEN, 0 for a new stream) and then counted, and trimming a stream takes the removed ids
 * from the list that mirrors its key (`{p}:l:<token>`) instead of reading the removed entries.
 */
export const APPEND = script(
  'append',
  `#!lua
local K = { epoch = KEYS[1], log = KEYS[2], ids = KEYS[3], streams = KEYS[4], logMark = KEYS[5],
  dropped = KEYS[6], base = ARGV[2] }
${HELPERS}
${ENSURE_EPOCH}
local epoch = ensureEpoch(K.epoch, ARGV[1])
local maxPerStream, maxEvents = tonumber(ARGV[3]), tonumber(ARGV[4])
local cutoff, ttl, ageBudget = ARGV[5], ARGV[6], ARGV[7]
local FIRST, STRIDE = 8, 3
local count = (#ARGV - 7) / STRIDE
-- Ids already stored: HGET for one event; else one HMGET, and \`added\` for repeats in the call.
local known, added
if count == 1 then
  known = redis.call('HGET', K.ids, ARGV[FIRST])
else
  local ids = {}
  for n = 1, count do ids[n] = ARGV[FIRST + STRIDE * (n - 1)] end
  known, added = {}, {}
  for from = 1, count, CHUNK do
    local part = redis.call('HMGET', K.ids, unpack(ids, from, math.min(from + CHUNK - 1, count)))
    for j = 1, #part do known[from + j - 1] = part[j] end
  end
end
-- The reply: every Redis id in one string (space-separated) and a duplicate flag per event in
-- another ('0'/'1'): two values for Redis to write and the client to decode, not two per event.
local rids, flags, index, streams = {}, {}, {}, {}
for n = 1, count do
  local i = FIRST + STRIDE * (n - 1)
  local id, token, packed = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local rid
  if added then rid = known[n] or added[id] else rid = known end
  if rid then
    rids[n] = rid
    flags[n] = '1'
  else
    -- Per stream: its key, its length before this call (XLEN: 0 also means "new") and, in the
    -- array part, the ids added to it now.
    local s = streams[token]
    if not s then
      s = { key = K.base .. 's:' .. token }
      s.length = redis.call('XLEN', s.key)
      if s.length == 0 then
        -- A new or re-created stream: events of an earlier stream of that name may be gone.
        local mark = redis.call('GET', K.dropped) or ''
        if cutoff ~= '' then mark = maxId(mark, cutoff .. '-0') end
        if mark ~= '' then raise(K.base .. 't:' .. token, mark, ttl) end
      end
      streams[token] = s
    end
    rid = redis.call('XADD', K.log, '*', 'p', packed)
    redis.call('XADD', s.key, rid, 'p', packed)
    if added then added[id] = rid end
    s[#s + 1] = rid
    index[#index + 1] = id
    index[#index + 1] = rid
    rids[n] = rid
    flags[n] = '0'
  end
end
if #index > 0 then variadic('HSET', K.ids, index) end
for token, s in pairs(streams) do
  local markKey, listKey = K.base .. 't:' .. token, K.base .. 'l:' .. token
  local length = s.length + #s
  -- The list mirrors the stream key's ids (RPUSH answers its length). Out of step — data of an
  -- older version, or one of the two expired first — it is rebuilt from the stream key.
  local _, listLength = variadic('RPUSH', listKey, s)
  if listLength ~= length then
    redis.call('DEL', listKey)
    local ids = {}
    for n, entry in ipairs(redis.call('XRANGE', s.key, '-', '+')) do ids[n] = entry[1] end
    variadic('RPUSH', listKey, ids)
  end
  if length > maxPerStream then
    -- The newest id the trim removes comes from the list: reading the removed entries (XRANGE)
    -- costs more than anything else the script does for them (Lua converts each entry).
    local excess, gone = length - maxPerStream
    if excess == 1 then
      gone = redis.call('LPOP', listKey)
    else
      gone = redis.call('LINDEX', listKey, excess - 1)
      redis.call('LTRIM', listKey, excess, -1)
    end
    redis.call('XTRIM', s.key, 'MAXLEN', '=', maxPerStream)
    raise(markKey, gone, ttl)
  end
  if ttl ~= '' then
    redis.call('PEXPIRE', s.key, ttl)
    redis.call('PEXPIRE', markKey, ttl)
    -- A second later than its stream key: a list left without its stream is cheap to rebuild
    -- (the stream starts anew), a stream left without its list is not.
    redis.call('PEXPIRE', listKey, tonumber(ttl) + 1000)
  end
  -- Scored by the time of its newest event (Redis's clock, as in the ids), like the cutoff. The
  -- score is only read with retentionMs (stats, cleanup); without, membership is all that counts.
  if ttl ~= '' or s.length == 0 then
    local newest = s[#s]
    redis.call('ZADD', K.streams, string.sub(newest, 1, string.find(newest, '-', 1, true) - 1), token)
  end
end
local length = redis.call('XLEN', K.log)
if length > maxEvents then
  removeOldest(K, redis.call('XRANGE', K.log, '-', '+', 'COUNT', length - maxEvents))
end
if cutoff ~= '' then
  removeOldest(K, redis.call('XRANGE', K.log, '-', '(' .. cutoff .. '-0', 'COUNT', ageBudget))
end
return { epoch, table.concat(rids, ' '), table.concat(flags) }
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
${ENSURE_EPOCH}
local epoch = ensureEpoch(KEYS[1], ARGV[1])
local newest = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)
local last = ''
if #newest > 0 then last = newest[1][1] end
return { epoch, last, redis.call('GET', KEYS[3]) or '' }
`,
);
