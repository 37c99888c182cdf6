import { afterEach, describe, expect, it } from 'vitest';
import type { BuslineError } from '../errors.js';
import type { BusEvent } from '../event.js';
import { randomHex } from '../random-hex.js';
import type { EventStore, ReadPage, ReadQuery } from '../store/event-store.js';

/** Hints a factory may honour; the suite only relies on them when told it can (see ConformanceOptions). */
export interface StoreFactoryOptions {
  /** Keep at most this many events per stream (for the retention tests). */
  maxEventsPerStream?: number;
}

export interface ConformanceOptions {
  /** The factory honours `maxEventsPerStream`: run the retention and `truncated` tests. @default false */
  retention?: boolean;
}

export type StoreFactory = (options: StoreFactoryOptions) => EventStore | Promise<EventStore>;

let nextId = 0;
/**
 * Tells this run's ids from another run's against the same store (a shared Redis). Random, not
 * `process.pid`: the suite also runs where there is no `process` (a browser test runner).
 * Drawn on first use, never at module load (Workers refuse random values in the global scope).
 */
let runTag: string | undefined;
/** A valid event with a unique id; override any field. */
function event(overrides: Partial<BusEvent> = {}): BusEvent {
  nextId++;
  runTag ??= randomHex(6);
  return {
    id: `conformance-${runTag}-${Date.now()}-${nextId}`,
    type: 'task.created',
    stream: 'default',
    time: 1_700_000_000_000 + nextId,
    data: { n: nextId },
    ...overrides,
  };
}

/** Reads every page of a query, following `next`. */
async function readAll(store: EventStore, query: ReadQuery): Promise<ReadPage['events']> {
  const events: ReadPage['events'] = [];
  let after = query.after;
  for (let pages = 0; pages < 10_000; pages++) {
    const page = await store.read({ ...query, after });
    events.push(...page.events);
    if (page.next === undefined) return events;
    after = page.next;
  }
  throw new Error('read did not reach the end after 10,000 pages');
}

function envelope(e: BusEvent): BusEvent {
  const { id, type, stream, time, data, meta } = e;
  return meta === undefined ? { id, type, stream, time, data } : { id, type, stream, time, data, meta };
}

/**
 * The EventStore conformance suite, for vitest. Every guarantee the bus relies on is a test
 * here; the memory store, the Redis store and examples/postgres-store all run it.
 *
 * @example
 * import { describeEventStore } from 'busline/testing';
 * describeEventStore('my store', () => new MyStore({ url }));
 */
export function describeEventStore(
  name: string,
  factory: StoreFactory,
  options: ConformanceOptions = {},
): void {
  describe(`EventStore conformance: ${name}`, () => {
    const open: EventStore[] = [];
    const make = async (hints: StoreFactoryOptions = {}): Promise<EventStore> => {
      const store = await factory(hints);
      open.push(store);
      return store;
    };
    afterEach(async () => {
      await Promise.all(open.splice(0).map((store) => store.close()));
    });

    it('reads nothing from an empty store', async () => {
      const store = await make();
      const page = await store.read({});
      expect(page.events).toEqual([]);
      expect(page.next).toBeUndefined();
      expect(page.truncated).toBeFalsy();
      expect((await store.stats()).events).toBe(0);
    });

    it('appends events and reads them back unchanged, in cursor order', async () => {
      const store = await make();
      const events = [event({ meta: { role: 'admin', level: 3, ok: true } }), event(), event({ data: null })];
      const results = await store.append(events);
      expect(results.map((r) => r.id)).toEqual(events.map((e) => e.id));
      expect(results.every((r) => !r.duplicate)).toBe(true);
      const page = await store.read({});
      expect(page.events.map(envelope)).toEqual(events.map(envelope));
      expect(page.events.map((e) => e.cursor)).toEqual(results.map((r) => r.cursor));
    });

    it('gives cursors that sort as strings in append order, across calls', async () => {
      const store = await make();
      const cursors: string[] = [];
      for (let i = 0; i < 12; i++) {
        const results = await store.append([event(), event()]);
        cursors.push(...results.map((r) => r.cursor));
      }
      expect(new Set(cursors).size).toBe(cursors.length);
      expect([...cursors].sort()).toEqual(cursors);
    });

    it('is idempotent by id: a re-append writes nothing and returns the original cursor', async () => {
      const store = await make();
      const first = event();
      const [original] = await store.append([first]);
      const [again] = await store.append([{ ...first, data: 'changed' }]);
      expect(again).toEqual({ id: first.id, cursor: original!.cursor, duplicate: true });
      const page = await store.read({});
      expect(page.events).toHaveLength(1);
      expect(page.events[0]!.data).toEqual(first.data);
    });

    it('treats the same id twice in one call as a duplicate of the first', async () => {
      const store = await make();
      const twin = event();
      const results = await store.append([twin, event(), twin]);
      expect(results[2]).toEqual({ id: twin.id, cursor: results[0]!.cursor, duplicate: true });
      expect((await store.read({})).events).toHaveLength(2);
    });

    it('appends atomically: a call with one invalid event rejects and writes none of it', async () => {
      const store = await make();
      const bad = [event(), event({ type: 'a..b' }), event()];
      const error = await store.append(bad).catch((e: unknown) => e);
      // By code, not instanceof: the store may load another copy of busline (CJS and ESM builds).
      expect((error as BuslineError).code).toBe('INVALID_EVENT');
      expect((await store.read({})).events).toEqual([]);
    });

    it('reads one stream without the others', async () => {
      const store = await make();
      await store.append([event({ stream: 'a' }), event({ stream: 'b' }), event({ stream: 'a' })]);
      const page = await store.read({ stream: 'a' });
      expect(page.events.map((e) => e.stream)).toEqual(['a', 'a']);
      expect((await store.read({ stream: 'nobody' })).events).toEqual([]);
    });

    it('reads strictly after a cursor', async () => {
      const store = await make();
      const results = await store.append([event(), event(), event(), event()]);
      const page = await store.read({ after: results[1]!.cursor });
      expect(page.events.map((e) => e.cursor)).toEqual([results[2]!.cursor, results[3]!.cursor]);
      const end = await store.read({ after: results[3]!.cursor });
      expect(end.events).toEqual([]);
      expect(end.next).toBeUndefined();
    });

    it('filters by type patterns with the bus rules (* one segment, ** zero or more)', async () => {
      const store = await make();
      const types = ['task.created', 'task.comment.added', 'job.failed', 'job.build.failed', 'user'];
      await store.append(types.map((type) => event({ type })));
      const read = async (patterns: string[]) =>
        (await store.read({ types: patterns })).events.map((e) => e.type);
      expect(await read(['task.*'])).toEqual(['task.created']);
      expect(await read(['**.failed'])).toEqual(['job.failed', 'job.build.failed']);
      expect(await read(['task.**', 'user'])).toEqual(['task.created', 'task.comment.added', 'user']);
      expect(await read(['**'])).toEqual(types);
    });

    it('filters by time: since inclusive, until exclusive', async () => {
      const store = await make();
      await store.append([10, 20, 30, 40].map((time) => event({ time })));
      const page = await store.read({ since: 20, until: 40 });
      expect(page.events.map((e) => e.time)).toEqual([20, 30]);
    });

    it('pages with limit and next until the end, and sets next only when more follows', async () => {
      const store = await make();
      const all = Array.from({ length: 250 }, () => event());
      await store.append(all);
      const first = await store.read({ limit: 100 });
      expect(first.events).toHaveLength(100);
      expect(first.next).toBeDefined();
      expect((await readAll(store, { limit: 100 })).map((e) => e.id)).toEqual(all.map((e) => e.id));
      const exact = await store.read({ limit: 250 });
      expect(exact.events).toHaveLength(250);
      expect(exact.next).toBeUndefined();
    });

    it('reads backward, newest first, and pages backward with next', async () => {
      const store = await make();
      const all = Array.from({ length: 7 }, () => event());
      await store.append(all);
      const first = await store.read({ direction: 'backward', limit: 3 });
      expect(first.events.map((e) => e.id)).toEqual(
        all
          .slice(4)
          .reverse()
          .map((e) => e.id),
      );
      const rest = await readAll(store, { direction: 'backward', limit: 3, after: first.next });
      expect(rest.map((e) => e.id)).toEqual(
        all
          .slice(0, 4)
          .reverse()
          .map((e) => e.id),
      );
    });

    it('names its head on an empty backward read, when it implements it: reading after it misses nothing appended later', async () => {
      const store = await make();
      const { head } = await store.read({ direction: 'backward', limit: 1 });
      if (head === undefined) return; // optional (ReadPage.head)
      expect(typeof head).toBe('string');
      const results = await store.append([event(), event()]);
      expect(results.every((r) => r.cursor > head)).toBe(true);
      const page = await store.read({ after: head });
      expect(page.truncated).toBeFalsy();
      expect(page.events.map((e) => e.cursor)).toEqual(results.map((r) => r.cursor));
    });

    it('rejects a limit above the documented maximum, or below 1, with INVALID_OPTION', async () => {
      const store = await make();
      for (const limit of [0, 10_001, 1.5]) {
        await expect(store.read({ limit })).rejects.toMatchObject({ code: 'INVALID_OPTION' });
      }
    });

    it('answers has(id) exactly, when it implements it', async () => {
      const store = await make();
      if (!store.has) return;
      const stored = event();
      await store.append([stored]);
      expect(await store.has(stored.id)).toBe(true);
      expect(await store.has(`${stored.id}-other`)).toBe(false);
    });

    it('round-trips odd names, unicode and __proto__ keys exactly, polluting nothing', async () => {
      const store = await make();
      const odd = [
        event({ stream: '{busline}:op 1 "quoted" \\ back', type: 'ünïcødé.事件' }),
        event({ stream: '__proto__', type: 'constructor.prototype' }),
        event({
          stream: '🚀',
          data: JSON.parse('{"__proto__":{"polluted":1},"text":"𝄞 עברית 中文\\n\\u0000"}'),
        }),
        event({ meta: JSON.parse('{"__proto__":"x","constructor":"y"}') }),
      ];
      await store.append(odd);
      const read = (await store.read({})).events;
      expect(read.map(envelope)).toEqual(odd.map(envelope));
      expect(Object.getPrototypeOf(read[2]!.data)).toBe(Object.prototype);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      for (const e of odd)
        expect((await store.read({ stream: e.stream })).events.map((x) => x.id)).toContain(e.id);
    });

    it('stores a 60 KiB event whole', async () => {
      const store = await make();
      const big = event({ data: { blob: 'x'.repeat(60 * 1024) } });
      await store.append([big]);
      expect((await store.read({})).events[0]!.data).toEqual(big.data);
    });

    it('keeps every event of concurrent appends, each cursor unique, read in cursor order', async () => {
      const store = await make();
      const calls = Array.from({ length: 40 }, () => [event({ stream: 'x' }), event({ stream: 'y' })]);
      const results = (await Promise.all(calls.map((batch) => store.append(batch)))).flat();
      const read = await readAll(store, { limit: 1000 });
      expect(read).toHaveLength(80);
      expect(new Set(read.map((e) => e.cursor)).size).toBe(80);
      expect(read.map((e) => e.cursor)).toEqual(results.map((r) => r.cursor).sort());
    });

    it('reports stats with event and stream counts', async () => {
      const store = await make();
      await store.append([event({ stream: 'a' }), event({ stream: 'b' }), event({ stream: 'b' })]);
      const stats = await store.stats();
      expect(stats.events).toBe(3);
      expect(stats.streams).toBe(2);
    });

    it('closes idempotently, and rejects appends and reads afterwards with CLOSED', async () => {
      const store = await make();
      await store.close();
      await expect(store.close()).resolves.toBeUndefined();
      await expect(store.append([event()])).rejects.toMatchObject({ code: 'CLOSED' });
      await expect(store.read({})).rejects.toMatchObject({ code: 'CLOSED' });
    });

    describe.runIf(options.retention)('retention', () => {
      it('keeps the newest maxEventsPerStream events of a stream and flags a cursor it outlived as truncated', async () => {
        const store = await make({ maxEventsPerStream: 5 });
        const results = await store.append(Array.from({ length: 8 }, () => event({ stream: 'r' })));
        const page = await store.read({ stream: 'r' });
        expect(page.events.map((e) => e.cursor)).toEqual(results.slice(3).map((r) => r.cursor));
        const behind = await store.read({ stream: 'r', after: results[0]!.cursor });
        expect(behind.truncated).toBe(true);
        expect(behind.events.map((e) => e.cursor)).toEqual(results.slice(3).map((r) => r.cursor));
        const current = await store.read({ stream: 'r', after: results[4]!.cursor });
        expect(current.truncated).toBeFalsy();
      });

      it('flags a read after its empty head as truncated once retention removed what followed, when it names a head', async () => {
        const store = await make({ maxEventsPerStream: 2 });
        const { head } = await store.read({ direction: 'backward', limit: 1 });
        if (head === undefined) return; // optional (ReadPage.head)
        const results = await store.append(Array.from({ length: 4 }, () => event({ stream: 'h' })));
        const page = await store.read({ stream: 'h', after: head });
        expect(page.truncated).toBe(true);
        expect(page.events.map((e) => e.cursor)).toEqual(results.slice(2).map((r) => r.cursor));
      });
    });
  });
}
