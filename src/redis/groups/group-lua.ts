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

// The type has a field of its own (`t`, written by the append script) rather than being decoded
// from the JSON: cjson.decode reads every scanned entry whole, matching or not. Redis CPU per
// event (INFO cpu, append + claim + ack of 20,000 events, half matching, Redis 7.0, median of 7),
// field vs decode: 17.4 vs 20.8 µs with 100 B of data, 28.5 vs 33.7 with 1 KB, 55.4 vs 70.2
// with 4 KB; the field costs memory instead, 17 bytes more per log entry for `task.created`.
// Entries written before the field existed fall back to a real decode, never a string match
// on the JSON (a type holding \" or \\ would be cut short there, and its event skipped).
/**
 * `entryType(fields)`: the event type of a log entry, exactly as the bus wrote it (astral
 * characters, quotes and backslashes included), or nil for an entry that has none. Needs FIELD.
 */
export const ENTRY_TYPE = `
local function entryType(fields)
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
const SETTLE_ARITY = { ack: 5, retry: 10, dead: 12 } as const;

/**
 * `settleAll`: applies the settle operations in ARGV from index \`first\` on, each: kind
 * ('ack' | 'retry' | 'dead'), source ('l' | 'a'), entry id, PEL delivery count, deliveries in
 * all; 'retry' and 'dead' go on with event id, stream token, JSON, log id; then 'retry' with
 * the delay (ms), 'dead' with error name, error message, dead at (ms). Each applies only if
 * this consumer still holds the entry with that delivery count (a stale one is ignored), and
 * each ack, retry and dead letter happens atomically with its XACK. Returns 0/1 per operation.
 */
export const SETTLE_OPERATIONS = `
local function settleAll(log, again, delayed, dead, group, consumer, maxDead, first)
  local arity = { ack = ${SETTLE_ARITY.ack}, retry = ${SETTLE_ARITY.retry}, dead = ${SETTLE_ARITY.dead} }
  local flags = {}
  local i = first
  while i <= #ARGV do
    local op, source, entryId, pelCount, deliveries = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4]
    local key = log
    if source == 'a' then key = again end
    local settled = 0
    local ok, held = pcall(redis.call, 'XPENDING', key, group, entryId, entryId, 1)
    if ok and #held == 1 and held[1][2] == consumer and tostring(held[1][4]) == pelCount then
      settled = 1
      redis.call('XACK', key, group, entryId)
      if source == 'a' then redis.call('XDEL', again, entryId) end
      local id, token, json, logId = ARGV[i + 5], ARGV[i + 6], ARGV[i + 7], ARGV[i + 8]
      if op == 'retry' then
        local delay = tonumber(ARGV[i + 9])
        if delay <= 0 then
          redis.call('XADD', again, '*', 'i', id, 's', token, 'e', json, 'c', logId, 'n', deliveries)
        else
          -- Unique: an event is in one place of its group at a time.
          local payload = cjson.encode({ i = id, s = token, e = json, c = logId, n = deliveries })
          redis.call('ZADD', delayed, nowMs() + delay, payload)
        end
      elseif op == 'dead' then
        redis.call('XADD', dead, 'MAXLEN', '=', maxDead, '*', 'i', id, 's', token, 'e', json, 'c', logId,
          'n', deliveries, 'en', ARGV[i + 9], 'em', ARGV[i + 10], 't', ARGV[i + 11])
      end
    end
    flags[#flags + 1] = settled
    i = i + arity[op]
  end
  return flags
end
`;
