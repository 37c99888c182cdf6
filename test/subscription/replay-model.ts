import fc from 'fast-check';
import { expect } from 'vitest';
import { EventBus, type EventStore, MemoryEventStore, type StoredEvent } from '../../src/index.js';
import type { Subscription } from '../../src/subscription/buffered-subscription.js';
import { referenceMatches as matchesPattern } from '../pattern/reference-matcher.js';

/**
 * Model test of the replay → live handover. Random interleavings of concurrent publishes,
 * subscriptions from random cursors with random patterns and tiny buffers (so the
 * handover's pending list overflows and falls back to the store), random closes, and
 * readers at random speeds. The reference is the store's own log once everything settled:
 * every subscription must have seen exactly the matching suffix after its start cursor
 * (a prefix of it, for one closed early) — nothing missed, nothing repeated, in order.
 */
const TYPES = ['a.x', 'a.y', 'b.z.w'];
const PATTERNS = ['a.*', '**', 'b.**', 'a.x'];

type Command =
  | { kind: 'publish'; type: string; count: number }
  | { kind: 'subscribe'; pattern: string; from: number; bufferSize: number }
  | { kind: 'close'; which: number }
  | { kind: 'tick'; turns: number };

export const command: fc.Arbitrary<Command> = fc.oneof(
  fc.record({
    kind: fc.constant('publish' as const),
    type: fc.constantFrom(...TYPES),
    count: fc.integer({ min: 1, max: 5 }),
  }),
  fc.record({
    kind: fc.constant('subscribe' as const),
    pattern: fc.constantFrom(...PATTERNS),
    from: fc.integer({ min: -1, max: 40 }),
    bufferSize: fc.integer({ min: 1, max: 4 }),
  }),
  fc.record({ kind: fc.constant('close' as const), which: fc.nat() }),
  fc.record({ kind: fc.constant('tick' as const), turns: fc.integer({ min: 1, max: 4 }) }),
);

interface Reader {
  pattern: string;
  /** Cursor the subscription started after; undefined = from the start. */
  after: string | undefined;
  sub: Subscription<StoredEvent>;
  seen: StoredEvent[];
  closedEarly: boolean;
  done: Promise<void>;
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

async function readLog(store: EventStore): Promise<StoredEvent[]> {
  const events: StoredEvent[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await store.read({ after, limit: 1000 });
    events.push(...page.events);
    if (page.next === undefined) return events;
    after = page.next;
  }
}

/** Deliveries checked across all runs: proves the property was not vacuous. */
export const checked = { seen: 0 };

/** A fresh store per run, and what to do once the run is over. */
export type StoreMaker = () => { store: EventStore; cleanup?: () => Promise<void> };

export const memoryStore: StoreMaker = () => ({
  store: new MemoryEventStore({ maxEventsPerStream: 100_000 }),
});

export async function run(makeStore: StoreMaker, commands: Command[], readerDelays: number[]): Promise<void> {
  const { store, cleanup } = makeStore();
  const bus = new EventBus({ store });
  await bus.ready();
  const published: Promise<unknown>[] = [];
  const cursors: string[] = [];
  const readers: Reader[] = [];
  let counter = 0;
  for (const c of commands) {
    if (c.kind === 'publish') {
      for (let i = 0; i < c.count; i++) {
        const p = bus.publish({ type: c.type, data: counter++ });
        published.push(p.then((r) => cursors.push(r.cursor!)));
      }
    } else if (c.kind === 'subscribe') {
      const after = c.from < 0 || cursors.length === 0 ? undefined : cursors[c.from % cursors.length];
      const sub = bus.subscribe(c.pattern, {
        from: after === undefined ? 'start' : { after },
        bufferSize: c.bufferSize,
        overflow: 'block',
      }) as Subscription<StoredEvent>;
      const reader: Reader = {
        pattern: c.pattern,
        after,
        sub,
        seen: [],
        closedEarly: false,
        done: Promise.resolve(),
      };
      const delay = readerDelays[readers.length % readerDelays.length]!;
      reader.done = (async () => {
        for await (const event of sub) {
          reader.seen.push(event);
          for (let i = 0; i < delay; i++) await tick();
        }
      })();
      readers.push(reader);
    } else if (c.kind === 'close' && readers.length > 0) {
      const reader = readers[c.which % readers.length]!;
      reader.closedEarly = true;
      reader.sub.close();
    } else if (c.kind === 'tick') {
      for (let i = 0; i < c.turns; i++) await tick();
    }
  }
  await Promise.all(published);
  const log = await readLog(store);
  // Give every reader time to take all it is owed, then end the subscriptions.
  for (const reader of readers) {
    if (reader.closedEarly) continue;
    const owed = suffix(log, reader).length;
    // Bounded by time, not turns: with a shared store events arrive through the live feed.
    for (const deadline = Date.now() + 10_000; reader.seen.length < owed && Date.now() < deadline; )
      await tick();
  }
  await bus.close();
  await Promise.all(readers.map((r) => r.done));
  await cleanup?.();

  for (const reader of readers) {
    checked.seen += reader.seen.length;
    const expected = suffix(log, reader);
    const seen = reader.seen.map((e) => e.id);
    if (reader.closedEarly) expect(seen).toEqual(expected.slice(0, seen.length));
    else expect(seen).toEqual(expected);
  }
}

/** The reference: ids of the logged events after the reader's start that its pattern matches. */
function suffix(log: StoredEvent[], reader: Reader): string[] {
  const start = reader.after === undefined ? 0 : log.findIndex((e) => e.cursor === reader.after) + 1;
  return log
    .slice(start)
    .filter((e) => matchesPattern(reader.pattern, e.type))
    .map((e) => e.id);
}
