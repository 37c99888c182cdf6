import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ReadQuery, StoredEvent } from '../../../src/index.js';
import { REDIS_STORE_DEFAULTS, type RedisEventStore } from '../../../src/redis/index.js';
import { type CountingConnection, countedStores } from './counting-connection.js';
import { testEvent as event } from './redis-fixtures.js';

/**
 * Security review, finding 2: a replay filtered down to nothing used to read the whole log in
 * one `read` call, which nobody could stop. Now one call examines at most `readScanLimit`
 * entries (and about `readScanBytes` of JSON) and answers `next` even with no events.
 */
const stores = countedStores('read-budget');
const counted = stores.counted;

/** Entries the XRANGE / XREVRANGE calls sent since `from` asked for (their COUNT). */
function entriesAsked(counting: CountingConnection, from = 0): number {
  return counting.sent
    .slice(from)
    .filter((c) => c.args[0] === 'XRANGE' || c.args[0] === 'XREVRANGE')
    .reduce((sum, c) => sum + Number(c.args[c.args.indexOf('COUNT') + 1]), 0);
}

async function appendMany(
  store: RedisEventStore,
  n: number,
  make: (i: number) => Record<string, unknown> = () => ({}),
) {
  for (let i = 0; i < n; i += 500) {
    await store.append(Array.from({ length: Math.min(500, n - i) }, (_, j) => event(make(i + j))));
  }
}

/** Follows `next` to the end; returns the events and the pages. */
async function readAll(store: RedisEventStore, query: ReadQuery) {
  const events: StoredEvent[] = [];
  const pages: { events: number; next: string | undefined }[] = [];
  let after = query.after;
  for (;;) {
    const page = await store.read({ ...query, after });
    events.push(...page.events);
    pages.push({ events: page.events.length, next: page.next });
    if (page.next === undefined) return { events, pages };
    after = page.next;
  }
}

describe('RedisEventStore.read: a budget per call', () => {
  it('defaults to 2,000 entries and 4 MiB', () => {
    expect(REDIS_STORE_DEFAULTS.readScanLimit).toBe(2000);
    expect(REDIS_STORE_DEFAULTS.readScanBytes).toBe(4 * 1024 * 1024);
  });

  it('returns `next` with no events once it examined readScanLimit entries, and the reader can go on', async () => {
    const { store, counting } = counted({ readScanLimit: 500 });
    await appendMany(store, 3000, (i) => ({ type: i === 2999 ? 'wanted.one' : 'task.updated' }));
    const start = counting.sent.length;
    const first = await store.read({ types: ['wanted.*'] });
    expect(first.events).toEqual([]);
    expect(first.next).toBeDefined();
    expect(entriesAsked(counting, start)).toBeLessThanOrEqual(500);
    // Following `next` finds the event, never examining more than the budget per call.
    // Following `next` finds the event, never examining more than the budget per call.
    const before = counting.sent.length;
    const { events, pages } = await readAll(store, { types: ['wanted.*'] });
    expect(events.map((e) => e.type)).toEqual(['wanted.one']);
    // 3,000 entries, 500 per call; the call that ends exactly on the budget cannot know that
    // nothing follows, so one more (empty) call says so.
    expect(pages.length).toBe(7);
    expect(pages.slice(0, 5).every((p) => p.events === 0 && p.next !== undefined)).toBe(true);
    expect(pages[5]!.events).toBe(1);
    expect(pages[6]).toEqual({ events: 0, next: undefined });
    expect(entriesAsked(counting, before)).toBeLessThanOrEqual(7 * 500);
  });

  it('never stops a page short of its limit for the budget alone: at least limit + 1 entries', async () => {
    const { store } = counted({ readScanLimit: 100 });
    await appendMany(store, 1200);
    const page = await store.read({ limit: 1000 });
    expect(page.events).toHaveLength(1000);
    expect(page.next).toBe(page.events[999]!.cursor);
  });

  it('stops after about readScanBytes of large events, sizing its chunks by the events seen', async () => {
    const { store, counting } = counted();
    const big = 'x'.repeat(20_000);
    await appendMany(store, 400, () => ({ data: big })); // 8 MB of JSON
    const start = counting.sent.length;
    const page = await store.read({ types: ['no.such.type'] });
    expect(page.events).toEqual([]);
    expect(page.next).toBeDefined();
    // 4 MiB of 20 KB events is 209: a first chunk of 128, then what the rest of the budget holds.
    const asked = entriesAsked(counting, start);
    expect(asked).toBeGreaterThan(128);
    expect(asked).toBeLessThanOrEqual(215);
    const rest = await readAll(store, { types: ['no.such.type'], after: page.next });
    expect(rest.events).toEqual([]);
    expect(rest.pages.length).toBe(1);
  });

  it('pages backward under the budget too', async () => {
    const { store } = counted({ readScanLimit: 300 });
    await appendMany(store, 1000, (i) => ({ type: i % 250 === 0 ? 'wanted.x' : 'task.updated', data: i }));
    const { events, pages } = await readAll(store, { types: ['wanted.*'], direction: 'backward' });
    expect(events.map((e) => e.data)).toEqual([750, 500, 250, 0]);
    expect(pages.length).toBeGreaterThanOrEqual(4);
  });

  it('gives, page by page, exactly the events of an unbounded read (property)', async () => {
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom('a.x', 'a.y', 'b.x', 'c.z'), { minLength: 100, maxLength: 400 }),
        fc.integer({ min: 1, max: 150 }),
        fc.integer({ min: 1, max: 50 }),
        fc.constantFrom(['a.*'], ['**.x'], ['c.z'], ['none']),
        fc.boolean(),
        async (types, scanLimit, limit, patterns, backward) => {
          const { store } = counted({ readScanLimit: scanLimit });
          for (let i = 0; i < types.length; i += 200) {
            await store.append(types.slice(i, i + 200).map((type) => event({ type })));
          }
          const direction = backward ? ('backward' as const) : ('forward' as const);
          const expected = types
            .map((type, i) => ({ type, i }))
            .filter(({ type }) => {
              if (patterns[0] === 'a.*') return type.startsWith('a.');
              if (patterns[0] === '**.x') return type.endsWith('.x');
              return type === patterns[0];
            });
          const { events } = await readAll(store, { types: patterns, limit, direction });
          runs++;
          expect(events.map((e) => e.type)).toEqual(
            (backward ? expected.reverse() : expected).map(({ type }) => type),
          );
        },
      ),
      { numRuns: 25 },
    );
    expect(runs).toBe(25);
  }, 60_000);
});
