import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OwnRedis } from '../redis/store/own-redis.js';
import { connectNodeRedis, deletePrefix, REDIS_URL } from '../redis/store/redis-fixtures.js';
import { type CatchUpOutage, catchUpThroughOutage } from './redis/catch-up-outage.js';
import { checkerSelfTest } from './redis/checker-self-test.js';
import { leftoverPrefixes, type RunResult, runSeed } from './redis/redis-run.js';

/**
 * The simulation's invariants (#13) against the real Redis: three buses, each with its own
 * node-redis client and RedisEventStore (as three processes would have), on one fresh prefix;
 * publishers (publish, publishBatch, explicit ids, retries with the same id, duplicates),
 * handlers (sync, slow, failing; small maxPending) and iterators (from 'now', 'start' or a
 * cursor seen earlier; bufferSize 2–8; fast, slow and pausing readers; some leave and resume
 * after their last cursor), on real timers. Real faults at moments the seed picks: connections
 * of one bus killed with CLIENT KILL (its tail's blocking connection or its command connection),
 * and on a redis-server of the test's own (`appendfsync always`), `kill -9` and a restart on the
 * same port and directory. Checked after each run against the store's own log: see
 * redis/redis-check.ts.
 *
 * The seed fixes the plan (actors, timings, faults); Redis and the OS pick the interleaving.
 * Re-run one seed:   REDIS_SIM_SEED=3 npx vitest run test/sim/redis-invariants.test.ts
 * (REDIS_SIM_KILL9=1 and REDIS_SIM_RETENTION=1 choose the kind of run for a seed outside the table;
 * REDIS_SIM_TRACE=1 prints the run's phases; REDIS_SIM_STRICT=0 tolerates iterators that a store
 * failure ended: an iterator retries failed reads for about feedTimeoutMs, then ends.)
 */

interface SeedPlan {
  seed: number;
  kill9: boolean;
  retention: boolean;
}

const TABLE: SeedPlan[] = [
  { seed: 1, kill9: false, retention: false },
  { seed: 2, kill9: false, retention: false },
  { seed: 4, kill9: false, retention: true },
  { seed: 5, kill9: false, retention: false },
  { seed: 101, kill9: true, retention: false },
];

function plans(): SeedPlan[] {
  const only = process.env.REDIS_SIM_SEED;
  if (only === undefined || only === '') return TABLE;
  return only.split(',').map((s) => {
    const seed = Number(s);
    const row = TABLE.find((p) => p.seed === seed);
    return {
      seed,
      kill9: process.env.REDIS_SIM_KILL9 ? process.env.REDIS_SIM_KILL9 === '1' : (row?.kill9 ?? false),
      retention: process.env.REDIS_SIM_RETENTION
        ? process.env.REDIS_SIM_RETENTION === '1'
        : (row?.retention ?? false),
    };
  });
}

function rerun(plan: SeedPlan): string {
  const inTable = TABLE.some(
    (p) => p.seed === plan.seed && p.kill9 === plan.kill9 && p.retention === plan.retention,
  );
  const flags = inTable
    ? ''
    : `REDIS_SIM_KILL9=${plan.kill9 ? 1 : 0} REDIS_SIM_RETENTION=${plan.retention ? 1 : 0} `;
  return `REDIS_SIM_SEED=${plan.seed} ${flags}${STRICT ? 'REDIS_SIM_STRICT=1 ' : ''}npx vitest run test/sim/redis-invariants.test.ts`;
}

function assertClean(plan: SeedPlan, result: RunResult): void {
  console.log(`redis sim ${result.summary}\n  violations: ${result.violations.length}`);
  if (result.violations.length === 0) return;
  const byInvariant = new Map<string, string[]>();
  for (const v of result.violations)
    byInvariant.set(v.invariant, [...(byInvariant.get(v.invariant) ?? []), v.detail]);
  const lines = [...byInvariant].flatMap(([invariant, details]) => [
    `${invariant} (${details.length}):`,
    ...details.slice(0, 5).map((d) => `  ${d}`),
    ...(details.length > 5 ? [`  … ${details.length - 5} more`] : []),
  ]);
  throw new Error(
    [
      `seed ${plan.seed} broke ${byInvariant.size} invariant(s); re-run: ${rerun(plan)}`,
      result.summary,
      ...lines,
    ].join('\n'),
  );
}

/** The first clean run without small retention: the checker's self-test breaks copies of its record. */
let cleanRun: RunResult | undefined;

function assertAndKeep(plan: SeedPlan, result: RunResult): void {
  assertClean(plan, result);
  if (cleanRun === undefined && !plan.retention && result.final !== undefined) cleanRun = result;
}

// A run cut short by a test timeout never reached its own cleanup: delete its keys on the shared Redis.
afterAll(async () => {
  const left = leftoverPrefixes().filter((p) => p.url === REDIS_URL);
  if (left.length === 0) return;
  const admin = await connectNodeRedis(REDIS_URL);
  for (const { prefix } of left) await deletePrefix(admin, prefix);
  admin.destroy();
});

/** Iterators ended by STORE_UNAVAILABLE count as violations (see redis-check.ts); REDIS_SIM_STRICT=0 tolerates them. */
const STRICT = process.env.REDIS_SIM_STRICT !== '0';

const selected = plans();
const withoutKill = selected.filter((p) => !p.kill9);
const withKill = selected.filter((p) => p.kill9);

describe.skipIf(withoutKill.length === 0)(
  'invariants on the shared Redis, with killed client connections',
  () => {
    for (const plan of withoutKill) {
      it(`seed ${plan.seed}${plan.retention ? ' (small retention: HISTORY_TRUNCATED allowed where trimmed)' : ''}`, async () => {
        assertAndKeep(
          plan,
          await runSeed({ seed: plan.seed, url: REDIS_URL, retention: plan.retention, strict: STRICT }),
        );
      }, 90_000);
    }
  },
);

describe.skipIf(withKill.length === 0)(
  'invariants across a kill -9 of a redis-server with appendfsync always',
  () => {
    let own: OwnRedis;
    beforeAll(async () => {
      own = await OwnRedis.onFreePort();
      await own.start();
    }, 20_000);
    afterAll(async () => {
      await own?.remove();
    });

    for (const plan of withKill) {
      it(`seed ${plan.seed}`, async () => {
        assertAndKeep(
          plan,
          await runSeed({ seed: plan.seed, url: own.url, own, retention: plan.retention, strict: STRICT }),
        );
      }, 90_000);
    }
  },
);

describe('the checker itself', () => {
  it("reports each kind of break made on purpose in a clean run's record", (context) => {
    if (cleanRun === undefined) return context.skip('no clean run without small retention to break');
    const { missed, skipped } = checkerSelfTest(cleanRun.model, cleanRun.final!);
    if (skipped.length > 0)
      console.log(`checker self-test on seed ${cleanRun.seed}: not applicable: ${skipped.join('; ')}`);
    expect(missed, `mutations of seed ${cleanRun.seed}'s record the checker let through`).toEqual([]);
  });
});

/**
 * Found by the seeded runs (iterators ended with STORE_UNAVAILABLE in kill -9 seeds such as 101, and
 * in seed 5 after a single CLIENT KILL of the command connection during a replay's XRANGE:
 * "Redis XRANGE failed: Socket closed unexpectedly"), made deterministic here: see
 * redis/catch-up-outage.ts. Redis restarts with its AOF (same epoch, nothing lost), so API.md's
 * catch-up rule ("reads what it missed from the store … and rejoins live with no gap"; only
 * HISTORY_TRUNCATED may end it) asks both subscribers to continue. The handler does (its
 * catch-up retries every 250 ms); the iterator's ends at its first failed read.
 */
describe('subscribers catching up while Redis restarts (kill -9, AOF, down longer than commandTimeoutMs)', () => {
  let own: OwnRedis;
  let outcome: CatchUpOutage;
  beforeAll(async () => {
    own = await OwnRedis.onFreePort();
    await own.start();
    outcome = await catchUpThroughOutage(own);
  }, 30_000);
  afterAll(async () => {
    await own?.remove();
  });

  it("an on() handler's catch-up retries through the outage and gets all 10 events, in order", () => {
    expect(outcome.handlerGot).toEqual(outcome.published);
    expect(outcome.feedErrors.some((e) => e.startsWith('handler: StoreUnavailableError'))).toBe(true);
    // The scenario worked as meant for the iterator too: it held the first two events in its
    // buffer, and nothing but a store failure (or nothing at all) ended it.
    expect(outcome.iteratorGot.slice(0, 2)).toEqual(outcome.published.slice(0, 2));
    expect([undefined, 'STORE_UNAVAILABLE']).toContain(outcome.iteratorErrorCode);
  });

  // An iterator retries failed store reads for about feedTimeoutMs (it used to end at the first).
  it('an iterator catching up rides out the outage and gets all 10 events, in order, once Redis is back', () => {
    expect(outcome.iteratorError).toBeUndefined();
    expect(outcome.iteratorGot).toEqual(outcome.published);
  });
});
