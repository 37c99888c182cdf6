import { expect, it } from 'vitest';
import { EventBus } from '../../../src/index.js';
import { compileGroupMatcher } from '../../../src/redis/groups/group-matcher.js';
import { CLAIM } from '../../../src/redis/groups/group-scripts.js';
import { RedisEventStore } from '../../../src/redis/index.js';
import { type CountingConnection, countingConnection } from '../store/counting-connection.js';
import { redisPerTest, waitFor } from '../store/redis-fixtures.js';

/**
 * Security review, finding 4 (proof script redis-claim-patterns.mjs): every claim re-parsed all
 * of a group's patterns in Lua and tested each new event type against each of them, so 3,000
 * patterns × 400 types blocked Redis for 404 ms. Now a group has at most 256 patterns, compiled
 * once into a trie that the script decodes in one C call, and one claim call stops after 1,000
 * log entries or 20,000 trie-node visits (then the member claims again). Tests never assert
 * timings: these check that the work is split and that nothing is lost by splitting it.
 */
const redis = redisPerTest('claim-budget');

async function countedBus(): Promise<{ bus: EventBus; counting: CountingConnection }> {
  const { client, prefix } = await redis.connect();
  const counting = countingConnection(client);
  const bus = new EventBus({
    store: new RedisEventStore({ client: counting.connection, prefix, groupPollMs: 50 }),
    onError: () => {},
  });
  redis.defer(() => bus.close());
  await bus.ready();
  return { bus, counting };
}

function claimCalls(counting: CountingConnection): (readonly string[])[] {
  return counting.sent
    .filter((c) => c.args[0] === 'EVALSHA' && c.args[1] === CLAIM.sha)
    .map((c) => c.args.slice(3 + Number(c.args[2])));
}

it('sends the group patterns compiled once, in one argument, whatever their number', async () => {
  const { bus, counting } = await countedBus();
  const patterns = Array.from({ length: 256 }, (_, i) => `**.x${i}`);
  const handled: string[] = [];
  await bus.consume(patterns, (e) => void handled.push(e.type), { group: 'g' });
  await bus.publish({ type: 'svc.x7', data: null });
  await waitFor(() => handled.length === 1);
  const calls = claimCalls(counting);
  expect(calls.length).toBeGreaterThan(0);
  const compiled = compileGroupMatcher([...patterns].sort());
  for (const argv of calls) {
    // group, consumer, max, idle, scan budget, reclaim, dead letters, matcher, match budget, settles…
    expect(argv[7]).toBe(compiled);
    expect(argv.includes('**.x7')).toBe(false);
  }
});

it('splits the scan of many unwanted events into claims of at most 1,000 entries, then delivers what follows', async () => {
  const { bus, counting } = await countedBus();
  const handled: string[] = [];
  await bus.consume('wanted.*', (e) => void handled.push(e.type), { group: 'sparse' });
  const before = claimCalls(counting).length;
  for (let i = 0; i < 5000; i += 500) {
    await bus.publishBatch(Array.from({ length: 500 }, (_, j) => ({ type: `noise.n${i + j}`, data: null })));
  }
  await bus.publish({ type: 'wanted.one', data: null });
  await waitFor(() => handled.length === 1);
  expect(handled).toEqual(['wanted.one']);
  // 5,001 entries to look at, 1,000 per claim at most.
  expect(claimCalls(counting).length - before).toBeGreaterThanOrEqual(6);
});

it('stops a claim at its matching budget with pathological patterns, and loses nothing', async () => {
  const { bus, counting } = await countedBus();
  // 256 distinct paths of `*` and `a` over 8 segments, then 23 `*`: a type of 31 `a`s keeps all
  // of them alive at once (thousands of trie nodes per segment); none of them ends in `t…`.
  const patterns = Array.from({ length: 255 }, (_, i) =>
    [
      ...Array.from({ length: 8 }, (_, b) => ((i >> b) & 1 ? 'a' : '*')),
      ...Array(23).fill('*'),
      `never${i}`,
    ].join('.'),
  );
  const handled: string[] = [];
  await bus.consume([...patterns, 'wanted.**'], (e) => void handled.push(e.type), { group: 'nasty' });
  const before = claimCalls(counting).length;
  const types = Array.from({ length: 300 }, (_, i) => [...Array(31).fill('a'), `t${i}`].join('.'));
  await bus.publishBatch(types.map((type) => ({ type, data: null })));
  await bus.publish({ type: 'wanted.end', data: null });
  await waitFor(() => handled.length === 1);
  expect(handled).toEqual(['wanted.end']);
  // 301 entries, far below the scan budget: only the matching budget splits them.
  expect(claimCalls(counting).length - before).toBeGreaterThanOrEqual(5);
});
