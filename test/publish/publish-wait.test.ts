import { describe, expect, it } from 'vitest';
import { PublishWait } from '../../src/publish/publish-wait.js';

/** A wait on `ids`, recording how often it asked to be forgotten (unregistered from the feed). */
function waitOn(...ids: string[]) {
  const forgotten: PublishWait[] = [];
  const wait = new PublishWait(ids, (done) => forgotten.push(done));
  return { wait, forgotten };
}

const stored = (id: string, cursor: string) => ({ id, cursor, duplicate: false });

describe('PublishWait (a publisher waiting for its events to come back through the feed)', () => {
  it('counts events the feed handed over before the append replied, and ends at once', async () => {
    const { wait, forgotten } = waitOn('a', 'b');
    wait.seen('a', 'c1', 2);
    wait.seen('b', 'c2', 0);
    const reached = await wait.settle([stored('a', 'c1'), stored('b', 'c2')], 10_000);
    expect(reached).toEqual([2, 0]);
    expect(forgotten).toEqual([wait]);
  });

  it('waits for the events still missing after the append, then resolves', async () => {
    const { wait, forgotten } = waitOn('a', 'b');
    wait.seen('a', 'c1', 1);
    const settling = wait.settle([stored('a', 'c1'), stored('b', 'c2')], 10_000);
    let done = false;
    settling.then(() => (done = true));
    await Promise.resolve();
    expect(done).toBe(false);
    wait.seen('b', 'c2', 3);
    expect(await settling).toEqual([1, 3]);
    expect(forgotten).toHaveLength(1);
  });

  it('takes an event of the same id but another cursor (not this publish) for nothing', async () => {
    const { wait } = waitOn('a');
    wait.seen('a', 'someone-else', 5);
    const settling = wait.settle([stored('a', 'mine')], 30);
    expect(await settling).toEqual([undefined]); // timed out: the right cursor never came
  });

  it('does not wait for duplicates (the store already held them: they are not delivered again)', async () => {
    const { wait } = waitOn('a', 'b');
    const reached = await wait.settle(
      [
        { id: 'a', cursor: 'c0', duplicate: true },
        { id: 'b', cursor: 'c2', duplicate: false },
      ],
      30,
    );
    expect(reached).toEqual([undefined, undefined]);
  });

  it('resolves after timeoutMs with what arrived; later deliveries change nothing', async () => {
    const { wait, forgotten } = waitOn('a', 'b');
    const settling = wait.settle([stored('a', 'c1'), stored('b', 'c2')], 20);
    wait.seen('a', 'c1', 1);
    const reached = await settling;
    wait.seen('b', 'c2', 1);
    expect(reached).toEqual([1, undefined]);
    expect(forgotten).toHaveLength(1);
  });

  it('cancel ends a pending settle and is forgotten once, however often it is called', async () => {
    const { wait, forgotten } = waitOn('a');
    const settling = wait.settle([stored('a', 'c1')], 10_000);
    wait.cancel();
    wait.cancel();
    expect(await settling).toEqual([undefined]);
    expect(forgotten).toHaveLength(1);
  });

  it('finds events that arrive out of publish order: after a duplicate left a gap, or reversed', async () => {
    const gap = waitOn('a', 'b', 'c');
    gap.wait.seen('a', 'c1', 1);
    gap.wait.seen('c', 'c3', 2); // b was a duplicate: the store never delivers it again
    expect(
      await gap.wait.settle(
        [stored('a', 'c1'), { id: 'b', cursor: 'c0', duplicate: true }, stored('c', 'c3')],
        30,
      ),
    ).toEqual([1, undefined, 2]);

    const reversed = waitOn('a', 'b');
    reversed.wait.seen('b', 'c2', 4);
    reversed.wait.seen('a', 'c1', 3);
    expect(await reversed.wait.settle([stored('a', 'c1'), stored('b', 'c2')], 30)).toEqual([3, 4]);
  });

  it("counts its own event after another process's event of the same id went by first", async () => {
    const { wait } = waitOn('x', 'y');
    wait.seen('x', 'theirs', 9);
    const settling = wait.settle([stored('x', 'mine'), stored('y', 'c2')], 10_000);
    wait.seen('x', 'mine', 1);
    wait.seen('y', 'c2', 2);
    expect(await settling).toEqual([1, 2]);
  });

  it('publishing one id twice in a batch: the first is stored and delivered, the second is a duplicate', async () => {
    const { wait } = waitOn('a', 'a', 'b');
    wait.seen('a', 'c1', 1);
    wait.seen('b', 'c2', 1);
    const reached = await wait.settle(
      [stored('a', 'c1'), { id: 'a', cursor: 'c1', duplicate: true }, stored('b', 'c2')],
      30,
    );
    expect(reached).toEqual([1, undefined, 1]);
  });
});
