import { ENSURE_EPOCH, FIELD, ID_LESS, PACKED_ENDS, script } from '../store/lua-scripts.js';
import { ENTRY_TYPE, MATCHER, NOW, PENDING, SETTLE_OPERATIONS } from './group-lua.js';

// The consumer-group scripts (see redis-group-keys.ts for the keys). Redis consumer groups on
// the store's log do the hand-out (XREADGROUP), the pending list (PEL) and the reclaim from dead
// consumers (XAUTOCLAIM). Two things Redis has no command for are kept beside them:
// - a retry with a delay: the failed entry is acknowledged and a copy waits in the `delayed`
//   sorted set (score: when it is due), then moves to the group's `again` stream, a second
//   Redis stream the group also reads with XREADGROUP;
// - dead letters: acknowledged and copied to the `dead` stream in the same script.
// Copies carry the event (`i` id, `s` stream token, `e` JSON), its log id `c` (the cursor) and
// `n`, the deliveries before this copy, so the delivery count survives the hops:
// deliveries = n + the copy's own PEL delivery count.

/**
 * KEYS: epoch, log, log mark, group hash, again.
 * ARGV: epoch candidate, group, types JSON (sorted), from ('now' | 'start'), stale consumer idle ms.
 * Creates the group if it does not exist: positioned after the newest logged event (`now`) or
 * after the log's trim mark (`start`: every retained event). Recreates the Redis group of an
 * existing one that lost it, at its last read position. Deletes consumers idle for longer than
 * the stale time that hold nothing (dead processes). Returns { 1, epoch } or { 0, types } when
 * the group exists with other patterns.
 */
export const JOIN = script(
  'group-join',
  `#!lua
${ENSURE_EPOCH}
local epoch = ensureEpoch(KEYS[1], ARGV[1])
local group = ARGV[2]
local types = redis.call('HGET', KEYS[4], 'types')
if types and types ~= ARGV[3] then return { 0, types } end
local position = redis.call('HGET', KEYS[4], 'last')
if not position then
  position = redis.call('GET', KEYS[3]) or '0-0'
  if ARGV[4] == 'now' then
    local newest = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)
    if #newest > 0 then position = newest[1][1] end
  end
  redis.call('HSET', KEYS[4], 'types', ARGV[3], 'last', position)
end
for _, key in ipairs({ KEYS[2], KEYS[5] }) do
  local from = position
  if key == KEYS[5] then from = '0-0' end
  local ok, err = pcall(redis.call, 'XGROUP', 'CREATE', key, group, from, 'MKSTREAM')
  if not ok and not string.find(tostring(err), 'BUSYGROUP') then return redis.error_reply(tostring(err)) end
  for _, consumer in ipairs(redis.call('XINFO', 'CONSUMERS', key, group)) do
    local name, pending, idle
    for i = 1, #consumer, 2 do
      if consumer[i] == 'name' then name = consumer[i + 1]
      elseif consumer[i] == 'pending' then pending = consumer[i + 1]
      elseif consumer[i] == 'idle' then idle = consumer[i + 1] end
    end
    if pending == 0 and idle > tonumber(ARGV[5]) then
      redis.call('XGROUP', 'DELCONSUMER', key, group, name)
    end
  end
end
return { 1, epoch }
`,
);

/**
 * KEYS: epoch, log, log mark, group hash, again, delayed, dead.
 * ARGV: group, consumer, most entries, min idle ms (reclaim), most log entries to scan, '1' to
 * look for entries of dead consumers (XAUTOCLAIM; members do it every so often, not on every
 * claim), most dead letters, the group's patterns compiled (group-matcher.ts), most trie node
 * visits for matching new types, then settle operations (SETTLE_OPERATIONS) the member had
 * queued: they are applied first, so a consumer that finished one event and asks for the next
 * makes one round trip, not two.
 * Moves due retries to `again`; then hands out, in this order and at most `max` in all:
 * entries of dead consumers (XAUTOCLAIM, `again` then log), unread `again` entries, new log
 * entries of the group's types (the others are acknowledged on the spot, at most `scan` per
 * call, and reading stops early once matching new types cost the visit budget). Returns
 * { 'nogroup', settled } when the group is gone (Redis lost its data), else { 'ok', epoch,
 * pending, ms until the next retry is due (-1: none), the read position whose successors were
 * trimmed unread ('' if none), entries lost to trimming while pending, 1 if a budget ran out
 * with room left (call again), entries as
 * { 'l' | 'a', entry id, PEL delivery count, fields }, settled } where settled holds 0/1 per
 * settle operation.
 */
export const CLAIM = script(
  'group-claim',
  `#!lua
${NOW}
${PENDING}
${MATCHER}
${ID_LESS}
${SETTLE_OPERATIONS}
${FIELD}
${PACKED_ENDS}
${ENTRY_TYPE}
local log, again, delayed = KEYS[2], KEYS[5], KEYS[6]
local group, consumer, room, minIdle, budget = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4], tonumber(ARGV[5])
local reclaiming = ARGV[6] == '1'
local matchBudget = tonumber(ARGV[9])
local settled = settleAll(log, again, delayed, KEYS[7], group, consumer, ARGV[7], 10)
local epoch = redis.call('GET', KEYS[1])
local last = redis.call('HGET', KEYS[4], 'last')
if not epoch or not last then return { 'nogroup', settled } end
local now = nowMs()
for _, payload in ipairs(redis.call('ZRANGEBYSCORE', delayed, '-inf', now, 'LIMIT', 0, 1000)) do
  local r = cjson.decode(payload)
  -- A payload of an older version holds the four-field form.
  if r.p then
    redis.call('XADD', again, '*', 'p', r.p, 'c', r.c, 'n', r.n)
  else
    redis.call('XADD', again, '*', 'i', r.i, 's', r.s, 'e', r.e, 'c', r.c, 'n', r.n)
  end
  redis.call('ZREM', delayed, payload)
end
local out, lost = {}, 0
local function reclaim(key, source, scanField)
  if room <= 0 or not reclaiming then return end
  local scan = redis.call('HGET', KEYS[4], scanField) or '0-0'
  local r = redis.call('XAUTOCLAIM', key, group, consumer, minIdle, scan, 'COUNT', room)
  redis.call('HSET', KEYS[4], scanField, r[1])
  for _, entry in ipairs(r[2]) do
    if type(entry) == 'table' then
      local p = redis.call('XPENDING', key, group, entry[1], entry[1], 1)
      out[#out + 1] = { source, entry[1], p[1][4], entry[2] }
      room = room - 1
    end
  end
  if r[3] then lost = lost + #r[3] end
end
reclaim(again, 'a', 'scanAgain')
reclaim(log, 'l', 'scanLog')
if room > 0 then
  local r = redis.call('XREADGROUP', 'GROUP', group, consumer, 'COUNT', room, 'STREAMS', again, '>')
  if r then
    for _, entry in ipairs(r[1][2]) do
      out[#out + 1] = { 'a', entry[1], 1, entry[2] }
      room = room - 1
    end
  end
end
local truncatedAfter = ''
local mark = redis.call('GET', KEYS[3])
if mark and idLess(last, mark) then
  truncatedAfter = last
  redis.call('HSET', KEYS[4], 'last', mark)
end
local wanted, matchWork = typeMatcher(ARGV[8])
local scanned, more, newest = 0, 0, nil
while room > 0 do
  if scanned >= budget or matchWork() >= matchBudget then
    more = 1
    break
  end
  local count = math.min(room, 500)
  local work = matchWork()
  if work > 0 then
    -- No more entries than the rest of the match budget covers, going by those so far.
    count = math.max(1, math.min(count, math.floor((matchBudget - work) * scanned / work)))
  end
  local r = redis.call('XREADGROUP', 'GROUP', group, consumer, 'COUNT', count, 'STREAMS', log, '>')
  if not r then break end
  local entries, skipped = r[1][2], {}
  for _, entry in ipairs(entries) do
    scanned = scanned + 1
    newest = entry[1]
    local fields = entry[2]
    local eventType = entryType(fields)
    if eventType and wanted(eventType) then
      out[#out + 1] = { 'l', entry[1], 1, fields }
      room = room - 1
    else
      skipped[#skipped + 1] = entry[1]
    end
  end
  if #skipped > 0 then redis.call('XACK', log, group, unpack(skipped)) end
  if #entries < count then break end
end
if newest then redis.call('HSET', KEYS[4], 'last', newest) end
local nextDue = -1
local first = redis.call('ZRANGE', delayed, 0, 0, 'WITHSCORES')
if #first > 0 then nextDue = math.max(0, tonumber(first[2]) - now) end
return { 'ok', epoch, pendingCount(log, again, delayed, group), nextDue, truncatedAfter, lost, more, out, settled }
`,
);

/**
 * KEYS: log, again, delayed, dead.
 * ARGV: group, consumer, most dead letters, then settle operations (see SETTLE_OPERATIONS).
 * Returns { settled 0/1 per operation…, pending, ms until the next retry is due (-1: none) }.
 */
export const SETTLE = script(
  'group-settle',
  `#!lua
${NOW}
${PENDING}
${ID_LESS}
${SETTLE_OPERATIONS}
local log, again, delayed, dead = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local group = ARGV[1]
local reply = settleAll(log, again, delayed, dead, group, ARGV[2], ARGV[3], 4)
local nextDue = -1
local first = redis.call('ZRANGE', delayed, 0, 0, 'WITHSCORES')
if #first > 0 then nextDue = math.max(0, tonumber(first[2]) - nowMs()) end
local pending = 0
if pcall(redis.call, 'XPENDING', log, group) then pending = pendingCount(log, again, delayed, group) end
reply[#reply + 1] = pending
reply[#reply + 1] = nextDue
return reply
`,
);

/**
 * KEYS: log, again. ARGV: group, consumer, the consumer that parks left entries, idle ms.
 * Hands every entry the consumer holds to the parking consumer with a large idle time, keeping
 * its delivery count (JUSTID), so the next XAUTOCLAIM of any member takes it; then deletes the
 * consumer. Returns how many entries it handed back.
 */
export const LEAVE = script(
  'group-leave',
  `#!lua
local group, consumer, parking, idle = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local released = 0
for _, key in ipairs({ KEYS[1], KEYS[2] }) do
  local exists = pcall(redis.call, 'XPENDING', key, group)
  if exists then
    while true do
      local held = redis.call('XPENDING', key, group, '-', '+', 1000, consumer)
      if #held == 0 then break end
      local args = { 'XCLAIM', key, group, parking, 0 }
      for _, p in ipairs(held) do args[#args + 1] = p[1] end
      args[#args + 1] = 'IDLE'
      args[#args + 1] = idle
      args[#args + 1] = 'JUSTID'
      redis.call(unpack(args))
      released = released + #held
    end
    redis.call('XGROUP', 'DELCONSUMER', key, group, consumer)
  end
end
return released
`,
);

/**
 * KEYS: dead, again. ARGV: '1' for all or '0', then event ids.
 * Moves the matching dead letters to `again` with a fresh delivery count. Returns how many.
 */
export const REDRIVE = script(
  'group-redrive',
  `#!lua
local wanted
if ARGV[1] == '0' then
  wanted = {}
  for i = 2, #ARGV do wanted[ARGV[i]] = true end
end
local count = 0
for _, entry in ipairs(redis.call('XRANGE', KEYS[1], '-', '+')) do
  local f = {}
  for i = 1, #entry[2], 2 do f[entry[2][i]] = entry[2][i + 1] end
  -- The event id starts the packed value; a dead letter of an older version has it in \`i\`.
  local id = f.i
  if f.p then id = string.sub(f.p, 1, (string.find(f.p, '\\n', 1, true) or 1) - 1) end
  if wanted == nil or wanted[id] then
    if f.p then
      redis.call('XADD', KEYS[2], '*', 'p', f.p, 'c', f.c, 'n', '0')
    else
      redis.call('XADD', KEYS[2], '*', 'i', f.i, 's', f.s, 'e', f.e, 'c', f.c, 'n', '0')
    end
    redis.call('XDEL', KEYS[1], entry[1])
    count = count + 1
  end
end
return count
`,
);
