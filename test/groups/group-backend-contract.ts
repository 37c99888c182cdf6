import { afterEach, describe, expect, it } from 'vitest';
import type { GroupBackend, JoinRequest } from '../../src/groups/group-backend.js';
import type { BusEvent, EventStore } from '../../src/index.js';
import { deferred } from './support.js';

export interface GroupBackendFixture {
  backend: GroupBackend;
  /** The store the backend reads events from. */
  store: EventStore;
  cleanup?(): Promise<void>;
}

/** Longer than a store round trip, short enough to wait for in a test (awaited, never slept). */
const RETRY_DELAY_MS = 200;

/**
 * What every GroupBackend must do, whatever it keeps its state in. The memory backend runs
 * it in memory-group-backend.test.ts; a Redis backend should run it against a real server.
 */
export function describeGroupBackend(name: string, setup: () => Promise<GroupBackendFixture>): void {
  describe(`GroupBackend contract: ${name}`, () => {
    let fixture: GroupBackendFixture;
    let seq = 0;
    afterEach(async () => {
      await fixture.backend.close();
      await fixture.cleanup?.();
    });

    async function start(): Promise<GroupBackendFixture> {
      fixture = await setup();
      return fixture;
    }
    const request = (overrides: Partial<JoinRequest> = {}): JoinRequest => ({
      group: 'g',
      consumer: `c${++seq}`,
      types: ['task.*'],
      from: 'now',
      ackTimeoutMs: 30_000,
      notify: () => {},
      ...overrides,
    });
    const append = (store: EventStore, ...data: unknown[]) =>
      store.append(
        data.map((d) => ({ id: `e${++seq}`, type: 'task.done', stream: 's', time: 0, data: d }) as BusEvent),
      );
    const dataOf = (deliveries: { event: { data: unknown } }[]) => deliveries.map((d) => d.event.data);

    it("positions a new group after the newest event with 'now', before the oldest with 'start'", async () => {
      const { backend, store } = await start();
      await append(store, 1, 2);
      const now = await backend.join(request({ group: 'now' }));
      const fromStart = await backend.join(request({ group: 'start', from: 'start' }));
      await append(store, 3);
      expect(dataOf(await now.claim(10))).toEqual([3]);
      expect(dataOf(await fromStart.claim(10))).toEqual([1, 2, 3]);
    });

    it('keeps the position of an existing group whatever `from` says', async () => {
      const { backend, store } = await start();
      await append(store, 1);
      const a = await backend.join(request());
      await append(store, 2);
      const b = await backend.join(request({ from: 'start' }));
      expect(dataOf(await b.claim(10))).toEqual([2]);
      expect(await a.claim(10)).toEqual([]);
    });

    it('hands each event to one member, at most `max` at a time, in cursor order, counting deliveries', async () => {
      const { backend, store } = await start();
      const [a, b] = await Promise.all([backend.join(request()), backend.join(request())]);
      await append(store, 1, 2, 3, 4, 5);
      const first = await a.claim(2);
      const second = await b.claim(10);
      expect(dataOf(first)).toEqual([1, 2]);
      expect(dataOf(second)).toEqual([3, 4, 5]);
      expect([...first, ...second].map((d) => d.deliveries)).toEqual([1, 1, 1, 1, 1]);
      expect(a.pending()).toBe(5);
      for (const d of first) await a.ack(d);
      expect(b.pending()).toBe(3);
    });

    it('only hands out events matching the group patterns', async () => {
      const { backend, store } = await start();
      const member = await backend.join(request({ types: ['task.*'] }));
      await store.append([
        { id: `x${++seq}`, type: 'user.created', stream: 's', time: 0, data: 'user' },
        { id: `x${++seq}`, type: 'task.done', stream: 's', time: 0, data: 'task' },
      ]);
      expect(dataOf(await member.claim(10))).toEqual(['task']);
    });

    it('creates a new group once when members join concurrently', async () => {
      const { backend, store } = await start();
      await append(store, 1, 2);
      const members = await Promise.all([1, 2, 3].map(() => backend.join(request({ from: 'start' }))));
      const claimed = (await Promise.all(members.map((m) => m.claim(10)))).flat();
      expect(dataOf(claimed).sort()).toEqual([1, 2]);
    });

    it('rejects a join with other patterns than the existing group', async () => {
      const { backend } = await start();
      await backend.join(request({ types: ['b.*', 'a.*'] }));
      await expect(backend.join(request({ types: ['a.*', 'b.*'] }))).resolves.toBeDefined();
      await expect(backend.join(request({ types: ['a.*'] }))).rejects.toMatchObject({
        code: 'INVALID_OPTION',
      });
    });

    it('redelivers a retried event at once with delay 0, to any member, with the next delivery count', async () => {
      const { backend, store } = await start();
      const [a, b] = await Promise.all([backend.join(request()), backend.join(request())]);
      await append(store, 1);
      const [first] = await a.claim(1);
      await a.retry(first!, { name: 'Error', message: 'x' }, 0);
      const [again] = await b.claim(1);
      expect(again).toMatchObject({ event: { data: 1 }, deliveries: 2 });
      expect(b.pending()).toBe(1);
    });

    it('holds a retried event for its delay, then notifies the members', async () => {
      const { backend, store } = await start();
      const due = deferred();
      const member = await backend.join(request({ notify: () => due.resolve() }));
      await append(store, 1);
      const [first] = await member.claim(1);
      await member.retry(first!, { name: 'Error', message: 'x' }, RETRY_DELAY_MS);
      expect(await member.claim(1)).toEqual([]);
      await due.promise;
      expect(dataOf(await member.claim(1))).toEqual([1]);
    });

    it('ignores a stale delivery: one that was retried, or left behind by a member that left', async () => {
      const { backend, store } = await start();
      const notified = deferred();
      const a = await backend.join(request());
      const b = await backend.join(request({ notify: () => notified.resolve() }));
      await append(store, 1);
      const [held] = await a.claim(1);
      await a.leave();
      await notified.promise; // b learns that work was left behind
      const [taken] = await b.claim(1);
      expect(taken).toMatchObject({ event: { data: 1 }, deliveries: 2 });
      await a.ack(held!); // too late: b holds it now
      await a.deadLetter(held!, { name: 'Error', message: 'late' });
      expect(b.pending()).toBe(1);
      expect(await backend.listDeadLetters('g')).toEqual([]);
      await b.retry(taken!, { name: 'Error', message: 'x' }, 0);
      await b.ack(taken!); // stale too: it was handed back by the retry
      expect(b.pending()).toBe(1);
    });

    it('ignores the late ack of a member that left before anyone took its delivery over', async () => {
      const { backend, store } = await start();
      const a = await backend.join(request());
      await append(store, 1);
      const [held] = await a.claim(1);
      await a.leave();
      await a.ack(held!);
      const b = await backend.join(request());
      expect(await b.claim(1)).toEqual([expect.objectContaining({ event: held!.event, deliveries: 2 })]);
    });

    it('dead-letters with the delivery count and last error, and redrives with a fresh count', async () => {
      const { backend, store } = await start();
      const member = await backend.join(request());
      await append(store, 1, 2);
      const [one, two] = await member.claim(2);
      await member.deadLetter(one!, { name: 'TypeError', message: 'bad one' });
      await member.deadLetter(two!, { name: 'Error', message: 'bad two' });
      expect(member.pending()).toBe(0);
      const letters = await backend.listDeadLetters('g');
      expect(letters).toEqual([
        {
          event: expect.objectContaining({ data: 1 }),
          group: 'g',
          deliveries: 1,
          lastError: { name: 'TypeError', message: 'bad one' },
          deadAt: expect.any(Number),
        },
        expect.objectContaining({ event: expect.objectContaining({ data: 2 }) }),
      ]);
      expect(await backend.countDeadLetters('g')).toBe(2);
      expect(await backend.redrive('g', [letters[1]!.event.id, 'unknown'])).toBe(1);
      expect(dataOf(await backend.listDeadLetters('g'))).toEqual([1]);
      expect(await backend.countDeadLetters('g')).toBe(1);
      expect(await member.claim(10)).toEqual([
        expect.objectContaining({ deliveries: 1, event: letters[1]!.event }),
      ]);
      expect(await backend.redrive('g', undefined)).toBe(1);
      expect(await backend.listDeadLetters('other')).toEqual([]);
      expect(await backend.countDeadLetters('other')).toBe(0);
      expect(await backend.redrive('other', undefined)).toBe(0);
    });

    it('rejects calls after close with ClosedError', async () => {
      const { backend } = await start();
      await backend.close();
      await expect(backend.join(request())).rejects.toMatchObject({ code: 'CLOSED' });
      await expect(backend.listDeadLetters('g')).rejects.toMatchObject({ code: 'CLOSED' });
    });
  });
}
