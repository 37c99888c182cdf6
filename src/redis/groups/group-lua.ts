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
 * The bus's pattern rules in Lua (a port of segments-match.ts; a property test checks the two
 * agree): `*` is one segment, `**` zero or more. The group filters the log inside the claim
 * script, so events of other types never travel to the client.
 */
export const MATCHER = `
local function parsePattern(source)
  local segments = {}
  for segment in string.gmatch(source, '[^.]+') do
    if not (segment == '**' and segments[#segments] == '**') then segments[#segments + 1] = segment end
  end
  return segments
end

local function segmentsMatch(p, t)
  local pi, ti, starP, starT = 1, 1, 0, 1
  while ti <= #t do
    local segment = p[pi]
    if segment == '**' then
      starP, starT, pi = pi, ti, pi + 1
    elseif segment ~= nil and (segment == '*' or segment == t[ti]) then
      pi, ti = pi + 1, ti + 1
    elseif starP > 0 then
      starT = starT + 1
      pi, ti = starP + 1, starT
    else
      return false
    end
  end
  while p[pi] == '**' do pi = pi + 1 end
  return pi == #p + 1
end

local function typeMatcher(sources)
  local patterns, verdicts = {}, {}
  for i, source in ipairs(sources) do patterns[i] = parsePattern(source) end
  return function(eventType)
    local verdict = verdicts[eventType]
    if verdict == nil then
      local segments = {}
      for segment in string.gmatch(eventType, '[^.]+') do segments[#segments + 1] = segment end
      verdict = false
      for _, p in ipairs(patterns) do
        if segmentsMatch(p, segments) then
          verdict = true
          break
        end
      end
      verdicts[eventType] = verdict
    end
    return verdict
  end
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
