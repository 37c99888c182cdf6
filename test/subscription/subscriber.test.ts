import { describe, expect, it } from 'vitest';
import { parsePatterns } from '../../src/pattern/parse.js';
import { Subscriber } from '../../src/subscription/subscriber.js';

const subscriberOf = (handler: ((event: never) => unknown) | undefined) =>
  new Subscriber(parsePatterns('a'), undefined, undefined, handler as never, undefined, () => ({
    queue: {} as never,
    sink: { push: () => undefined, held: 0 },
  }));

describe('Subscriber', () => {
  it('routes async functions through the queue from the first call, and nothing else', () => {
    async function declared() {}
    const method = { async run() {} }.run;
    const cases: [string, ((event: never) => unknown) | undefined, boolean][] = [
      ['an async function', declared, true],
      ['an async arrow', async () => {}, true],
      ['an async method', method, true],
      ['a bound async function', declared.bind(null), true],
      ['a plain function', () => {}, false],
      ['a function returning a promise', () => Promise.resolve(), false],
      ['a generator function', function* () {}, false],
      ['no handler (an iterator sink)', undefined, false],
    ];
    for (const [what, handler, isAsync] of cases)
      expect(subscriberOf(handler).sink !== undefined, what).toBe(isAsync);
  });
});
