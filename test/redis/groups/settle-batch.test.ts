import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NOW, PENDING } from '../../../src/redis/groups/group-lua.js';
import { SETTLE } from '../../../src/redis/groups/group-scripts.js';
import { RedisKeys } from '../../../src/redis/store/redis-keys.js';
import { OwnRedis } from '../store/own-redis.js';
import {
  connectNodeRedis,
  deletePrefix,
  type NodeRedisClient,
  uniquePrefix,
} from '../store/redis-fixtures.js';

// The settle script reads who holds what with one XPENDING per stream and acknowledges in one
// XACK per stream. Its reference is the script it replaced, which looked up and acknowledged
// each operation on its own: both run the same random operations on two copies of the same
// group state, and must answer the same flags and leave the same state behind.

/** The per-operation settleAll the batched one replaced, kept as the oracle. */
const PER_OPERATION = `#!lua
${NOW}
${PENDING}
local function settleAll(log, again, delayed, dead, group, consumer, maxDead, first)
  local arity = { ack = 5, retry = 8, dead = 10 }
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
      local packed, logId = ARGV[i + 5], ARGV[i + 6]
      if op == 'retry' then
        local delay = tonumber(ARGV[i + 7])
        if delay <= 0 then
          redis.call('XADD', again, '*', 'p', packed, 'c', logId, 'n', deliveries)
        else
          local payload = cjson.encode({ p = packed, c = logId, n = deliveries })
          redis.call('ZADD', delayed, nowMs() + delay, payload)
        end
      elseif op == 'dead' then
        redis.call('XADD', dead, 'MAXLEN', '=', maxDead, '*', 'p', packed, 'c', logId,
          'n', deliveries, 'en', ARGV[i + 7], 'em', ARGV[i + 8], 't', ARGV[i + 9])
      end
    end
    flags[#flags + 1] = settled
    i = i + arity[op]
  end
  return flags
end
local log, again, delayed, dead = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
return settleAll(log, again, delayed, dead, ARGV[1], ARGV[2], ARGV[3], 4)
`;

const GROUP = 'g';

interface Keys {
  log: string;
  again: string;
  delayed: string;
  dead: string;
}

/** Group state: `log` entries, the first `mine` read by c1 and the next `theirs` by c2; `again` likewise. */
interface State {
  log: { entries: number; mine: number; theirs: number; redelivered: number[] };
  again: { entries: number; mine: number; theirs: number; redelivered: number[] };
}

interface Operation {
  op: 'ack' | 'retry' | 'dead';
  source: 'l' | 'a';
  entry: number;
  /** 0: the delivery count c1 holds it with; 1: one off (a stale delivery). */
  countOff: 0 | 1;
  delay: 0 | 5000;
}

/** Under the store's `{prefix}:` base, so deletePrefix removes them. */
function keysOf(prefix: string): Keys {
  const base = new RedisKeys(prefix).base;
  return { log: `${base}log`, again: `${base}again`, delayed: `${base}delayed`, dead: `${base}dead` };
}

/** Builds the state; returns the entry ids of each stream, in order. */
async function build(
  client: NodeRedisClient,
  keys: Keys,
  state: State,
): Promise<{ l: string[]; a: string[] }> {
  const ids = { l: [] as string[], a: [] as string[] };
  for (const [source, key, shape] of [
    ['l', keys.log, state.log],
    ['a', keys.again, state.again],
  ] as const) {
    for (let n = 0; n < shape.entries; n++) {
      ids[source].push(await client.xAdd(key, '*', { i: `e${n}`, e: '{}' }));
    }
    await client.xGroupCreate(key, GROUP, '0', { MKSTREAM: true });
    if (shape.mine > 0) await client.xReadGroup(GROUP, 'c1', { key, id: '>' }, { COUNT: shape.mine });
    if (shape.theirs > 0) await client.xReadGroup(GROUP, 'c2', { key, id: '>' }, { COUNT: shape.theirs });
    // A second delivery to c1 raises the entry's delivery count.
    for (const n of shape.redelivered) {
      if (n < shape.mine) await client.xClaim(key, GROUP, 'c1', 0, ids[source][n]!);
    }
  }
  return ids;
}

async function pelCounts(client: NodeRedisClient, key: string): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  const reply = (await client.sendCommand(['XPENDING', key, GROUP, '-', '+', '10000'])) as unknown[][];
  for (const [id, , , count] of reply) counts.set(String(id), Number(count));
  return counts;
}

async function args(
  client: NodeRedisClient,
  keys: Keys,
  ids: { l: string[]; a: string[] },
  ops: Operation[],
) {
  const logCounts = await pelCounts(client, keys.log);
  const againCounts = await pelCounts(client, keys.again);
  const argv = [GROUP, 'c1', '100'];
  for (const { op, source, entry, countOff, delay } of ops) {
    const list = ids[source];
    const entryId = list[entry % list.length]!;
    const held = (source === 'l' ? logCounts : againCounts).get(entryId) ?? 1;
    argv.push(op, source, entryId, String(held + countOff), '3');
    if (op !== 'ack') argv.push(`event-${entry}\ndG9rZW4\na.b\n{"n":1}`, `log-${entry % list.length}`);
    if (op === 'retry') argv.push(String(delay));
    if (op === 'dead') argv.push('Error', 'failed', '1700000000000');
  }
  return argv;
}

/** What the scripts leave behind, without what differs between two copies (stream ids, idle times, due times). */
async function snapshot(client: NodeRedisClient, keys: Keys, ids: { l: string[]; a: string[] }) {
  const pending = async (key: string, list: string[]) => {
    const reply = (await client.sendCommand(['XPENDING', key, GROUP, '-', '+', '10000'])) as unknown[][];
    return reply.map(([id, consumer, , count]) => [list.indexOf(String(id)), consumer, Number(count)]);
  };
  const fields = async (key: string) =>
    ((await client.xRange(key, '-', '+')) as { message: Record<string, string> }[]).map(
      (entry) => entry.message,
    );
  return {
    log: await pending(keys.log, ids.l),
    again: await pending(keys.again, ids.a),
    againEntries: await fields(keys.again),
    dead: await fields(keys.dead),
    // Sorted: the zset orders by due time, and two retries of one call may be due in the same
    // millisecond (then by payload) or not, as the clock happens to tick between them.
    delayed: (await client.zRange(keys.delayed, 0, -1)).sort(),
  };
}

const streamShape = (maxEntries: number) =>
  fc
    .record({
      entries: fc.integer({ min: 1, max: maxEntries }),
      mine: fc.nat({ max: maxEntries }),
      theirs: fc.nat({ max: 5 }),
      redelivered: fc.array(fc.nat({ max: maxEntries }), { maxLength: 4 }),
    })
    .map((s) => ({
      ...s,
      mine: Math.min(s.mine, s.entries),
      theirs: Math.min(s.theirs, s.entries - Math.min(s.mine, s.entries)),
    }));

const operation = fc.record({
  op: fc.constantFrom('ack', 'ack', 'ack', 'retry', 'dead'),
  source: fc.constantFrom('l', 'l', 'a'),
  entry: fc.nat({ max: 300 }),
  countOff: fc.constantFrom(0, 0, 0, 1),
  delay: fc.constantFrom(0, 5000),
}) as fc.Arbitrary<Operation>;

describe('group settle script: batched lookups and acks', () => {
  let client: NodeRedisClient;
  beforeAll(async () => {
    client = await connectNodeRedis();
  });
  afterAll(async () => {
    await client.quit();
  });

  it('answers and leaves the same state as settling one operation at a time', async () => {
    await fc.assert(
      fc.asyncProperty(
        // Up to 300 log entries held by c1: more than one range lookup holds, so the lookup of
        // single entries it left out is exercised too.
        fc.record({ log: streamShape(300), again: streamShape(20) }),
        fc.array(operation, { minLength: 1, maxLength: 40 }),
        async (state, ops) => {
          const results = [];
          for (const source of [SETTLE.source, PER_OPERATION]) {
            const prefix = uniquePrefix('settle-batch');
            const keys = keysOf(prefix);
            try {
              const ids = await build(client, keys, state);
              const argv = await args(client, keys, ids, ops);
              const flags = await client.eval(source, {
                keys: [keys.log, keys.again, keys.delayed, keys.dead],
                arguments: argv,
              });
              const settled = source === PER_OPERATION ? flags : (flags as unknown[]).slice(0, ops.length);
              results.push({ settled, state: await snapshot(client, keys, ids) });
            } finally {
              await deletePrefix(client, prefix);
            }
          }
          expect(results[0]).toEqual(results[1]);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('settles a full batch of acks in one lookup and one XACK per stream', async () => {
    // A server of its own: command counts on the shared one include other test files' commands.
    const own = await OwnRedis.onFreePort();
    await own.start();
    const counted = await connectNodeRedis(own.url);
    try {
      const keys = keysOf('settle-count');
      const ids = await build(counted, keys, {
        log: { entries: 40, mine: 40, theirs: 0, redelivered: [] },
        again: { entries: 5, mine: 5, theirs: 0, redelivered: [] },
      });
      const ops: Operation[] = [
        ...ids.l.map((_, entry) => ({ op: 'ack', source: 'l', entry, countOff: 0, delay: 0 }) as const),
        ...ids.a.map((_, entry) => ({ op: 'ack', source: 'a', entry, countOff: 0, delay: 0 }) as const),
      ];
      const argv = await args(counted, keys, ids, ops);
      await counted.configResetStat();
      const reply = (await counted.eval(SETTLE.source, {
        keys: [keys.log, keys.again, keys.delayed, keys.dead],
        arguments: argv,
      })) as number[];
      const stats = await counted.info('commandstats');
      const calls = (command: string) =>
        Number(new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(stats)?.[1] ?? 0);
      expect(reply.slice(0, ops.length)).toEqual(ops.map(() => 1));
      // One range lookup per stream, and two for the pending count the script answers (an
      // existence probe, then the summary); one XACK per stream and one XDEL for \`again\`.
      expect(calls('xpending')).toBe(4);
      expect(calls('xack')).toBe(2);
      expect(calls('xdel')).toBe(1);
      expect(await counted.xLen(keys.again)).toBe(0);
      expect(await pelCounts(counted, keys.log)).toEqual(new Map());
    } finally {
      counted.destroy();
      await own.remove();
    }
  });
});
