import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventBus } from 'busline';
import { describeEventStore } from 'busline/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { FileEventStore } from './file-event-store.js';

const dir = mkdtempSync(join(tmpdir(), 'busline-file-store-'));
let files = 0;
const freshPath = () => join(dir, `events-${++files}.jsonl`);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describeEventStore('FileEventStore', () => new FileEventStore({ path: freshPath() }));

describe('FileEventStore across restarts', () => {
  it('reopens with every event and the same cursors, and resumes after an old cursor', async () => {
    const path = freshPath();
    const firstStore = new FileEventStore({ path });
    const first = new EventBus({ store: firstStore });
    const results = [];
    for (let n = 1; n <= 5; n++) results.push(await first.publish({ type: 'task.done', data: { n } }));
    await first.close();
    await firstStore.close(); // releases the lock: the bus closes only a store it made
    const store = new FileEventStore({ path });
    const bus = new EventBus({ store });
    const again = await bus.publish({ id: results[0]!.id, type: 'task.done', data: { n: 1 } });
    expect(again.status).toBe('duplicate');
    const sixth = await bus.publish({ type: 'task.done', data: { n: 6 } });
    expect(sixth.cursor! > results[4]!.cursor!).toBe(true);
    expect(await bus.storeStats()).toMatchObject({ events: 6, streams: 1 });
    const replay = bus.subscribe('task.*', { from: { after: results[2]!.cursor! } });
    const seen: unknown[] = [];
    for await (const event of replay) {
      seen.push((event.data as { n: number }).n);
      if (seen.length === 3) break;
    }
    expect(seen).toEqual([4, 5, 6]);
    await bus.close();
    await store.close();
  });

  it('drops a torn last line (a process killed mid-write) and keeps appending on a line of its own', async () => {
    const path = freshPath();
    const store = new FileEventStore({ path });
    await store.append([{ id: 'a', type: 't', stream: 's', time: 1, data: 1 }]);
    await store.close();
    writeFileSync(path, `${readFileSync(path, 'utf8')}[{"id":"b","ty`);
    const reopened = new FileEventStore({ path });
    await reopened.append([{ id: 'c', type: 't', stream: 's', time: 2, data: 3 }]);
    expect((await reopened.read({})).events.map((e) => e.id)).toEqual(['a', 'c']);
    await reopened.close();
    const third = new FileEventStore({ path });
    expect((await third.read({})).events.map((e) => e.id)).toEqual(['a', 'c']);
    await third.close();
  });

  it('refuses a second open while the first is live, and flags a cursor of a recreated file as truncated', async () => {
    const path = freshPath();
    const store = new FileEventStore({ path });
    expect(() => new FileEventStore({ path })).toThrow(
      expect.objectContaining({ code: 'STORE_UNAVAILABLE' }),
    );
    const [old] = await store.append([{ id: 'x', type: 't', stream: 's', time: 1, data: 1 }]);
    await store.close();
    rmSync(path);
    const recreated = new FileEventStore({ path });
    await recreated.append([{ id: 'y', type: 't', stream: 's', time: 1, data: 1 }]);
    const page = await recreated.read({ after: old!.cursor });
    expect(page.truncated).toBe(true);
    expect(page.events.map((e) => e.id)).toEqual(['y']);
    await expect(recreated.read({ after: 'garbage' })).rejects.toMatchObject({ code: 'INVALID_OPTION' });
    await recreated.close();
  });

  it('takes over the lock of a process that no longer runs', async () => {
    const path = freshPath();
    writeFileSync(`${path}.lock`, '999999999');
    const store = new FileEventStore({ path });
    expect(readFileSync(`${path}.lock`, 'utf8')).toBe(String(process.pid));
    await store.close();
  });
});
