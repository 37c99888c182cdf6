import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { BusEvent, StoredEvent } from '../../../src/event.js';
import { createEventId } from '../../../src/event-id.js';
import { MemoryEventStore } from '../../../src/index.js';
import type { Entry } from '../../../src/store/memory/entry-queue.js';
import { IdIndex } from '../../../src/store/memory/id-index.js';
import { appendOwned } from '../../../src/store/memory/memory-event-store.js';

function entryFor(id: string, seq: number): Entry<null> {
  return { seq, storedAt: 0, stream: null, event: { id } as StoredEvent };
}

/** An add of a fresh id (ascending like the bus's ids, or anywhere), a removal, or a lookup. */
const op = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('ascending' as const) }), weight: 6 },
  {
    arbitrary: fc.record({
      kind: fc.constant('random' as const),
      id: fc.string({ maxLength: 4 }),
      vouched: fc.boolean(),
    }),
    weight: 2,
  },
  {
    arbitrary: fc.record({ kind: fc.constant('remove' as const), pick: fc.nat(), oldest: fc.boolean() }),
    weight: 5,
  },
  {
    arbitrary: fc.record({ kind: fc.constant('lookup' as const), id: fc.string({ maxLength: 4 }) }),
    weight: 1,
  },
);

describe('IdIndex', () => {
  it('answers like a Map for any mix of ascending and out-of-order ids and removals', () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 3000, maxLength: 5000 }), (ops) => {
        const index = new IdIndex<null>();
        const model = new Map<string, Entry<null>>();
        const everSeen: string[] = [];
        let next = 0;
        let seq = 0;
        for (const o of ops) {
          if (o.kind === 'ascending' || o.kind === 'random') {
            const id = o.kind === 'ascending' ? `id-${String(++next).padStart(8, '0')}` : o.id;
            expect(index.get(id)).toBe(model.get(id));
            if (model.has(id)) continue; // the store never adds a present id
            const entry = entryFor(id, ++seq);
            // A random id may be vouched for as ascending and still not sort last: it must go to the Map.
            index.add(id, entry, o.kind === 'ascending' || o.vouched);
            model.set(id, entry);
            everSeen.push(id);
          } else if (o.kind === 'remove' && model.size > 0) {
            // The model keeps insertion order, which is seq order: its first entry is the oldest.
            let skip = o.oldest ? 0 : o.pick % model.size;
            let entry: Entry<null> | undefined;
            for (entry of model.values()) if (skip-- === 0) break;
            entry = entry!;
            const id = entry.event!.id;
            entry.event = null;
            index.delete({ id }, entry);
            model.delete(id);
          } else if (o.kind === 'lookup') {
            expect(index.get(o.id)).toBe(model.get(o.id));
          }
          expect(index.size).toBe(model.size);
        }
        for (const id of everSeen) expect(index.get(id)).toBe(model.get(id));
      }),
      { numRuns: 20 },
    );
  });

  it('drops dead entries in the middle and at the front without losing live ones', () => {
    const index = new IdIndex<null>();
    const entries = Array.from({ length: 5000 }, (_, i) => entryFor(`id-${String(i).padStart(5, '0')}`, i));
    for (const e of entries) index.add(e.event!.id, e, true);
    const kill = (e: Entry<null>): void => {
      const id = e.event!.id;
      e.event = null;
      index.delete({ id }, e);
    };
    for (let i = 1; i < 5000; i += 3) kill(entries[i]!); // scattered: the front stays put
    for (let i = 0; i < 3000; i++) if (entries[i]!.event !== null) kill(entries[i]!); // oldest first
    for (let i = 0; i < 5000; i++) {
      const live = i >= 3000 && i % 3 !== 1;
      expect(index.get(`id-${String(i).padStart(5, '0')}`)).toBe(live ? entries[i] : undefined);
    }
    expect(index.size).toBe(entries.filter((e) => e.event !== null).length);
  });

  it("keeps the bus's ids sorted when a given id sorts above them", () => {
    const index = new IdIndex<null>();
    index.add('order-17', entryFor('order-17', 0), false); // 'o' sorts after every hex digit
    const ids = Array.from({ length: 100 }, (_, i) => createEventId(Date.UTC(2031, 0, 1) + i));
    for (const [i, id] of ids.entries()) index.add(id, entryFor(id, i + 1), true);
    expect(index.sortedSize).toBe(100);
    expect(index.size).toBe(101);
    for (const id of [...ids, 'order-17']) expect(index.get(id)?.event?.id).toBe(id);
  });

  it('keeps a re-added id that was removed from the sorted part', () => {
    const index = new IdIndex<null>();
    const a = entryFor('b', 1);
    index.add('b', a, true);
    index.add('c', entryFor('c', 2), true);
    a.event = null;
    index.delete({ id: 'b' }, a);
    expect(index.get('b')).toBeUndefined();
    const again = entryFor('b', 3); // below the greatest id: goes out of order
    index.add('b', again, true);
    expect(index.get('b')).toBe(again);
    expect(index.size).toBe(2);
  });
});

describe('MemoryEventStore id index', () => {
  it('has(id) and duplicate detection agree with what a read returns, through evictions', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.oneof(
            fc.record({ kind: fc.constant('fresh' as const), stream: fc.integer({ min: 0, max: 3 }) }),
            fc.record({ kind: fc.constant('again' as const), pick: fc.nat() }),
            fc.record({ kind: fc.constant('named' as const), id: fc.string({ minLength: 1, maxLength: 3 }) }),
          ),
          { minLength: 50, maxLength: 300 },
        ),
        async (ops) => {
          const store = new MemoryEventStore({ maxEventsPerStream: 7, maxEvents: 20, maxStreams: 3 });
          const ids: string[] = [];
          let t = 1;
          for (const o of ops) {
            const id =
              o.kind === 'fresh'
                ? createEventId(t++)
                : o.kind === 'again'
                  ? (ids[o.pick % Math.max(1, ids.length)] ?? 'x')
                  : o.id;
            const event: BusEvent = { id, type: 'a.b', stream: `s${ids.length % 4}`, time: t, data: null };
            const retained = new Set((await store.read({ limit: 100 })).events.map((e) => e.id));
            // The bus's path: its own ids vouched for as ascending; given ones (again, named) not.
            const [result] =
              o.kind === 'named' && o.id.length % 2 === 0
                ? await store.append([event])
                : store[appendOwned]([{ ...event, cursor: '' }], o.kind === 'fresh');
            expect(result!.duplicate).toBe(retained.has(id));
            ids.push(id);
          }
          const retained = new Set((await store.read({ limit: 100 })).events.map((e) => e.id));
          for (const id of ids) expect(await store.has(id)).toBe(retained.has(id));
          expect((await store.stats()).events).toBe(retained.size);
        },
      ),
      { numRuns: 100 },
    );
  });
});
