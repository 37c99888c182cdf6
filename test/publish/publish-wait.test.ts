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
    expect([...reached]).toEqual([
      ['a', 2],
      ['b', 0],
    ]);
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
    expect([...(await settling)]).toEqual([
      ['a', 1],
      ['b', 3],
    ]);
    expect(forgotten).toHaveLength(1);
  });

  it('takes an event of the same id but another cursor (not this publish) for nothing', async () => {
    const { wait } = waitOn('a');
    wait.seen('a', 'someone-else', 5);
    const settling = wait.settle([stored('a', 'mine')], 30);
    expect([...(await settling)]).toEqual([]); // timed out: the right cursor never came
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
    expect([...reached]).toEqual([]);
  });

  it('resolves after timeoutMs with what arrived; later deliveries change nothing', async () => {
    const { wait, forgotten } = waitOn('a', 'b');
    const settling = wait.settle([stored('a', 'c1'), stored('b', 'c2')], 20);
    wait.seen('a', 'c1', 1);
    const reached = await settling;
    wait.seen('b', 'c2', 1);
    expect([...reached]).toEqual([['a', 1]]);
    expect(forgotten).toHaveLength(1);
  });

  it('cancel ends a pending settle and is forgotten once, however often it is called', async () => {
    const { wait, forgotten } = waitOn('a');
    const settling = wait.settle([stored('a', 'c1')], 10_000);
    wait.cancel();
    wait.cancel();
    expect([...(await settling)]).toEqual([]);
    expect(forgotten).toHaveLength(1);
  });
});
