import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { ClosableWaits } from '../../src/publish/closable-waits.js';

describe('ClosableWaits', () => {
  it("ends a wait on its caller's signal, or on close(), whichever comes first", () => {
    const waits = new ClosableWaits();
    const caller = new AbortController();
    const byCaller = waits.start(caller.signal);
    const byClose = waits.start(undefined);
    caller.abort('gave up');
    expect(byCaller.signal.reason).toBe('gave up');
    expect(byClose.signal.aborted).toBe(false);
    waits.close('closed');
    expect(byClose.signal.reason).toBe('closed');
    expect(waits.start(undefined).signal.reason).toBe('closed'); // and any later one
  });

  it('dispose() forgets a finished wait and its listener on the caller’s signal', () => {
    const waits = new ClosableWaits();
    const caller = new AbortController();
    for (let i = 0; i < 100; i++) waits.start(caller.signal).dispose();
    expect(waits.size).toBe(0);
    expect(getEventListeners(caller.signal, 'abort')).toHaveLength(0);
  });
});
