// Lua snippets the consumer-group scripts (group-scripts.ts) are assembled from.

/** Redis's clock in ms, for due times (every process compares against the same clock). */
export const NOW = `
local function nowMs()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
`;

/** The group's unacknowledged entries: in the log's PEL, in `again` (read or not), waiting in `delayed`. */
export const PENDING = `
local function pendingCount(log, again, delayed, group)
  return redis.call('XPENDING', log, group)[1] + redis.call('XLEN', again) + redis.call('ZCARD', delayed)
end
`;

/**
 * The bus's pattern rules in Lua: `*` is one segment, `**` zero or more (a property test checks
 * it agrees with segments-match.ts). The group filters the log inside the claim script, so
 * events of other types never travel to the client.
 *
 * `typeMatcher(json)` takes the group's patterns pre-compiled into a trie (group-matcher.ts),
 * decoded by cjson in one C call: nothing is parsed in Lua per claim. A type is tested by
 * walking its segments once with the set of trie nodes it may be at (a `**` node stays in the
 * set and takes the next segment too; entering a node also enters the `**` below it, which
 * may take nothing). The verdict per type is kept for the rest of the call. `matchWork()` counts
 * the node visits so far, for the claim's budget.
 */
export const MATCHER = `
local function typeMatcher(json)
  local nodes = cjson.decode(json)
  local verdicts, work = {}, 0
  local function enter(set, list, n)
    while n ~= 0 and not set[n] do
      set[n] = true
      list[#list + 1] = n
      n = nodes[n][3]
    end
  end
  local function matches(eventType)
    local verdict = verdicts[eventType]
    if verdict ~= nil then return verdict end
    local set, list = {}, {}
    enter(set, list, 1)
    for segment in string.gmatch(eventType, '[^.]+') do
      local nextSet, nextList = {}, {}
      for _, n in ipairs(list) do
        local node = nodes[n]
        if node[5] == 1 then enter(nextSet, nextList, n) end
        local child = node[1][segment]
        if child then enter(nextSet, nextList, child) end
        if node[2] ~= 0 then enter(nextSet, nextList, node[2]) end
      end
      work = work + #list
      set, list = nextSet, nextList
      if #list == 0 then break end
    end
    verdict = false
    for _, n in ipairs(list) do
      if nodes[n][4] == 1 then
        verdict = true
        break
      end
    end
    verdicts[eventType] = verdict
    return verdict
  end
  return matches, function() return work end
end
`;

// The type is in the entry's header (log-entry.ts: the packed field starts with id, token and
// type), not decoded from the JSON: cjson.decode reads every scanned entry whole, matching or
// not. Redis CPU per event (INFO cpu, append + claim + ack of 20,000 events, half matching,
// Redis 7.0, median of 7), a field of its own (the older format) vs decode: 17.4 vs 20.8 µs
// with 100 B of data, 28.5 vs 33.7 with 1 KB, 55.4 vs 70.2 with 4 KB. Entries written before
// the type was stored beside the JSON fall back to a real decode, never a string match on the
// JSON (a type holding \" or \\ would be cut short there, and its event skipped).
/**
 * `entryType(fields)`: the event type of a log entry, exactly as the bus wrote it (astral
 * characters, quotes and backslashes included), or nil for an entry that has none. Needs FIELD
 * and PACKED_ENDS.
 */
export const ENTRY_TYPE = `
local function entryType(fields)
  if fields[1] == 'p' then
    local v = fields[2]
    local _, b, c = packedEnds(v)
    if not b then return nil end
    return string.sub(v, b + 1, c - 1)
  end
  if fields[5] == 't' then return fields[6] end
  local eventType = field(fields, 't')
  if eventType then return eventType end
  local json = field(fields, 'e')
  if not json then return nil end
  local ok, body = pcall(cjson.decode, json)
  if ok and type(body) == 'table' and type(body.type) == 'string' then return body.type end
  return nil
end
`;

/** Arguments per settle operation, by kind (see SETTLE_OPERATIONS). */
const SETTLE_ARITY = { ack: 5, retry: 8, dead: 10 } as const;

/**
 * `settleAll`: applies the settle operations in ARGV from index \`first\` on, each: kind
 * ('ack' | 'retry' | 'dead'), source ('l' | 'a'), entry id, PEL delivery count, deliveries in
 * all; 'retry' and 'dead' go on with the event's packed value (log-entry.ts) and log id; then
 * 'retry' with the delay (ms), 'dead' with error name, error message, dead at (ms). The `again`
 * and `dead` entries and the `delayed` payloads hold the packed value as the log entry does,
 * so the type stays beside the JSON (which no longer has it). Each applies only if
 * this consumer still holds the entry with that delivery count (a stale one is ignored), and
 * each ack, retry and dead letter happens atomically with its XACK. Returns 0/1 per operation.
 * Needs ID_LESS.
 *
 * Who holds what is read with one XPENDING per stream over the operations' id range, filtered
 * to this consumer, not one per operation; the acks then go out as one XACK per stream. Per
 * operation that was two commands (each a C call with its arguments and reply converted), most
 * of the claim script's cost at concurrency 32. An entry the range reply left out (it holds at
 * most \`limit\`) is looked up on its own, as before.
 */
export const SETTLE_OPERATIONS = `
local function variadicAck(key, group, ids, delete)
  for from = 1, #ids, 4000 do
    local to = math.min(from + 3999, #ids)
    redis.call('XACK', key, group, unpack(ids, from, to))
    if delete then redis.call('XDEL', key, unpack(ids, from, to)) end
  end
end
local function settleAll(log, again, delayed, dead, group, consumer, maxDead, first)
  local arity = { ack = ${SETTLE_ARITY.ack}, retry = ${SETTLE_ARITY.retry}, dead = ${SETTLE_ARITY.dead} }
  local ranges = {}
  local i = first
  while i <= #ARGV do
    local source, entryId = ARGV[i + 1], ARGV[i + 2]
    local r = ranges[source]
    if not r then
      r = { low = entryId, high = entryId, ops = 0 }
      ranges[source] = r
    elseif idLess(entryId, r.low) then r.low = entryId
    elseif idLess(r.high, entryId) then r.high = entryId end
    r.ops = r.ops + 1
    i = i + arity[ARGV[i]]
  end
  -- held[source][entry id] = PEL delivery count, for what this consumer holds in the range.
  local held, complete = {}, {}
  for source, r in pairs(ranges) do
    local key = log
    if source == 'a' then key = again end
    local limit = r.ops * 2 + 64
    local ok, list = pcall(redis.call, 'XPENDING', key, group, r.low, r.high, limit, consumer)
    local map = {}
    if ok then
      for _, p in ipairs(list) do map[p[1]] = tostring(p[4]) end
      complete[source] = #list < limit
    else
      complete[source] = true
    end
    held[source] = map
  end
  local function holds(source, entryId, pelCount)
    local count = held[source][entryId]
    if count == nil and not complete[source] then
      local key = log
      if source == 'a' then key = again end
      local ok, one = pcall(redis.call, 'XPENDING', key, group, entryId, entryId, 1, consumer)
      if ok and #one == 1 then count = tostring(one[1][4]) end
    end
    return count == pelCount
  end
  local flags, acks = {}, { l = {}, a = {} }
  i = first
  while i <= #ARGV do
    local op, source, entryId, pelCount, deliveries = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4]
    local settled = 0
    if holds(source, entryId, pelCount) then
      settled = 1
      -- Settled once: a second operation on it in this call finds it gone, as it would after XACK.
      held[source][entryId] = false
      if op == 'ack' then
        local list = acks[source]
        list[#list + 1] = entryId
      else
        local key = log
        if source == 'a' then key = again end
        redis.call('XACK', key, group, entryId)
        if source == 'a' then redis.call('XDEL', again, entryId) end
        local packed, logId = ARGV[i + 5], ARGV[i + 6]
        if op == 'retry' then
          local delay = tonumber(ARGV[i + 7])
          if delay <= 0 then
            redis.call('XADD', again, '*', 'p', packed, 'c', logId, 'n', deliveries)
          else
            -- Unique: an event is in one place of its group at a time.
            local payload = cjson.encode({ p = packed, c = logId, n = deliveries })
            redis.call('ZADD', delayed, nowMs() + delay, payload)
          end
        else
          redis.call('XADD', dead, 'MAXLEN', '=', maxDead, '*', 'p', packed, 'c', logId,
            'n', deliveries, 'en', ARGV[i + 7], 'em', ARGV[i + 8], 't', ARGV[i + 9])
        end
      end
    end
    flags[#flags + 1] = settled
    i = i + arity[op]
  end
  if #acks.l > 0 then variadicAck(log, group, acks.l, false) end
  if #acks.a > 0 then variadicAck(again, group, acks.a, true) end
  return flags
end
`;
