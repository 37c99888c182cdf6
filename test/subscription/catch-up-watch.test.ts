import { describe, expect, it, vi } from 'vitest';
import type { CursorWatch } from '../../src/bus/live-feed.js';
import type { HistoryTruncatedError, StoredEvent } from '../../src/index.js';
import { MemoryEventStore } from '../../src/index.js';
import { CatchUp } from '../../src/subscription/catch-up.js';
import type { Inbox } from '../../src/subscription/inbox.js';
import { ReadSlots } from '../../src/subscription/read-slots.js';

/**
 * When a catch-up's read comes back truncated, it may still owe its subscriber nothing: the
 * shared feed, if it has not lost its place, brought every event after some cursor to the
 * subscription since the catch-up began, and holds them. These stage the feed's watch by hand
 * (LiveFeed.watch in the bus) and check both sides: what the watch proves and what it does not.
 */
describe('CatchUp on a truncated read, with the feed watched', () => {
  it('hands over what it holds when the feed was behind a position it read itself (sim seed 81661)', async () => {
    const run = await staged({ from: 'x1' });
    expect(run.truncations).toEqual([]);
    expect(run.items).toEqual(['x2', 'x3']);
  });

  it('reports the truncation when the feed had left events out (its position is unknown)', async () => {
    const run = await staged({ from: undefined });
    expect(run.truncations).toHaveLength(1);
  });

  it('reports the truncation when the feed lost its place meanwhile', async () => {
    const run = await staged({ from: 'x1', lost: true });
    expect(run.truncations).toHaveLength(1);
  });

  it("trusts only equality for the caller's own cursor, which may be of another store epoch", async () => {
    // The first read, right after the caller's cursor, comes back truncated: a feed cursor that
    // merely sorts before it proves nothing (the two may be of different epochs).
    const store = new MemoryEventStore({ maxEventsPerStream: 3 });
    const cursors = await fill(store, ['x1', 'x2', 'y3', 'y4', 'y5']); // x1 and x2 are gone
    const run = await catchUp(store, cursors.get('x1')!, { from: '0' });
    await vi.waitFor(() => expect(run.truncations).toHaveLength(1));
  });
});

/**
 * A catch-up after x1 with room for one event, reading pages of one: it reads x2 and waits for
 * room. The feed (its watch says from where) then brings x2 and x3, which the catch-up holds, and
 * retention removes x3 and what follows x2 in the store: the next read after x2 is truncated.
 */
async function staged(watch: { from: string | undefined; lost?: boolean }) {
  const store = new MemoryEventStore({ maxEventsPerStream: 3 });
  const cursors = await fill(store, ['x1', 'x2', 'x3']);
  const run = await catchUp(store, cursors.get('x1')!, {
    from: watch.from === undefined ? undefined : cursors.get(watch.from),
    lost: watch.lost,
  });
  await vi.waitFor(() => expect(run.items).toEqual(['x2']));
  const live = (await store.read({ after: cursors.get('x1') })).events;
  for (const event of live) run.catchUp.push(event); // the feed brings x2 and x3: held
  await fill(store, ['y4', 'y5', 'y6']); // x1, x2 and x3 are gone
  run.take(); // room: the next read after x2 is truncated
  await vi.waitFor(() => expect(run.settled()).toBe(true));
  return run;
}

async function fill(store: MemoryEventStore, ids: string[]): Promise<Map<string, string>> {
  const results = await store.append(
    ids.map((id) => ({ id, type: id[0]!, stream: 'a', time: Date.now(), data: id })),
  );
  return new Map(results.map((r, i) => [ids[i]!, r.cursor]));
}

async function catchUp(
  store: MemoryEventStore,
  after: string,
  watch: { from: string | undefined; lost?: boolean },
) {
  const items: string[] = [];
  const taken: string[] = [];
  const truncations: HistoryTruncatedError[] = [];
  let freed: (() => void) | undefined;
  const inbox: Inbox<StoredEvent> = {
    isOpen: true,
    get held() {
      return items.length - taken.length;
    },
    hasRoom: () => items.length - taken.length < 1,
    accept: (event) => void items.push(event.id),
    whenRoom: () => new Promise<void>((resolve) => (freed = resolve)),
    push: () => undefined,
  };
  const feedWatch = (cursor: string): CursorWatch => ({
    cursor,
    seen: false,
    lost: watch.lost ?? false,
    from: watch.from,
    release() {},
  });
  const handover = new CatchUp(inbox, {
    store,
    start: { after },
    types: ['x'],
    stream: undefined,
    filter: undefined,
    catchUp: true,
    pageSize: 1,
    pendingLimit: 4,
    onFilterError: () => {},
    onTruncated: (error) => {
      truncations.push(error);
      return true;
    },
    onReadError: () => undefined,
    slots: new ReadSlots(4),
    watchFeed: feedWatch,
  });
  handover.start();
  return {
    catchUp: handover,
    items,
    truncations,
    take() {
      taken.push(items[taken.length]!);
      freed?.();
    },
    /** Live again, or told of the truncation. */
    settled: () => !handover.catchingUp || truncations.length > 0,
  };
}
