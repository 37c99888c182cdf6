import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { whenAborted } from '../../../src/redis/client/shared-abort.js';

describe('whenAborted (one abort listener per signal, however many calls wait on it)', () => {
  it('many waits add one listener; the abort calls each wait still registered, once', () => {
    const controller = new AbortController();
    const calls: number[] = [];
    const stops = Array.from({ length: 100 }, (_, i) => whenAborted(controller.signal, () => calls.push(i)));
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    for (let i = 0; i < 100; i += 2) stops[i]!();
    controller.abort();
    controller.abort();
    expect(calls).toEqual(Array.from({ length: 50 }, (_, i) => 2 * i + 1));
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('a wait that stops itself during the abort, or another one, is handled; stopping twice is harmless', () => {
    const controller = new AbortController();
    const calls: string[] = [];
    let stopB = (): void => {};
    const stopA = whenAborted(controller.signal, () => {
      calls.push('a');
      stopB(); // b still runs: the abort calls those registered when it happened
    });
    stopB = whenAborted(controller.signal, () => calls.push('b'));
    controller.abort();
    stopA();
    stopA();
    expect(calls).toEqual(['a', 'b']);
  });

  it('a signal that already aborted never calls back and gets no listener (as addEventListener)', () => {
    const signal = AbortSignal.abort(new Error('gone'));
    let called = false;
    whenAborted(signal, () => {
      called = true;
    })();
    expect(called).toBe(false);
    expect(getEventListeners(signal, 'abort')).toHaveLength(0);
  });

  it('after an abort, a fresh signal starts over with a listener of its own', () => {
    const first = new AbortController();
    whenAborted(first.signal, () => {});
    first.abort();
    const second = new AbortController();
    let called = 0;
    whenAborted(second.signal, () => called++);
    expect(getEventListeners(second.signal, 'abort')).toHaveLength(1);
    second.abort();
    expect(called).toBe(1);
  });
});
