// `busline`'s components with state: MemoryEventStore, Deduplicator and RateLimiter, each
// constructor option and method argument fuzzed (see input-fuzz.ts).
import fc from 'fast-check';
import { Deduplicator, MemoryEventStore, RateLimiter } from '../../../src/index.js';
import { anyValue, hostileString } from '../hostile.js';
import { fuzzInputs } from './input-fuzz.js';

const stored = { id: 'e1', type: 'a.b', stream: 's', time: 1, data: 1 };
const hostileEvent = fc.record(
  { id: anyValue, type: anyValue, stream: anyValue, time: anyValue, data: anyValue, meta: anyValue },
  { requiredKeys: [] },
);
export const eventList = fc.oneof(anyValue, fc.array(fc.oneof(anyValue, hostileEvent), { maxLength: 3 }));
export const patternList = fc.oneof(anyValue, fc.array(hostileString, { maxLength: 3 }));
export const QUERY = ['after', 'types', 'stream', 'since', 'until', 'limit', 'direction'];
export const FIELDS = ['events', 'id', 'type', 'stream', 'time', 'data', 'meta'];

export const fuzzMemoryStore = () => {
  const store = new MemoryEventStore({ retentionMs: 60_000 });
  const ready = store.append([stored]);
  const options = ['maxEventsPerStream', 'maxStreams', 'maxEvents', 'retentionMs', 'clock'];
  const made = async (options: unknown) => {
    const fresh = new MemoryEventStore(options as never);
    // What the constructor accepted must work: append, read and cleanup use every option.
    await fresh.append([stored]);
    await fresh.read({});
    await fresh.cleanup(Date.now());
    await fresh.close();
  };
  return {
    constructor: async () => {
      await fuzzInputs({ inputs: ['options'], aliases: { options }, call: (v) => made(v.options) });
      await fuzzInputs({ inputs: options, call: (v) => made(v) });
    },
    append: async () => {
      await ready;
      await fuzzInputs({
        inputs: ['events'],
        arbitraries: { events: eventList },
        aliases: { events: FIELDS },
        call: (v) => store.append(v.events as never),
      });
    },
    read: async () => {
      await fuzzInputs({
        inputs: ['query'],
        aliases: { query: QUERY },
        call: (v) => store.read(v.query as never),
      });
      await fuzzInputs({
        inputs: QUERY,
        arbitraries: { types: patternList },
        patternInputs: ['types'],
        call: (v) => store.read(v),
      });
    },
    hasCleanupStatsClose: async () => {
      await fuzzInputs({
        inputs: ['id', 'now'],
        valid: { id: 'e1', now: Date.now() },
        call: async (v) => {
          await store.has(v.id as never);
          await store.cleanup(v.now as never);
          await store.stats();
        },
      });
      await fuzzInputs({ inputs: ['ignored'], call: () => new MemoryEventStore().close() });
    },
  };
};

export const fuzzDeduplicator = () => {
  const options = ['windowMs', 'expectedEvents', 'falsePositiveRate', 'clock'];
  const made = (options: unknown) => {
    const dedup = new Deduplicator(options as never);
    dedup.checkAndMark('x');
    return dedup.stats();
  };
  const dedup = new Deduplicator();
  return {
    constructor: async () => {
      await fuzzInputs({ inputs: ['options'], aliases: { options }, call: (v) => made(v.options) });
      await fuzzInputs({ inputs: options, call: (v) => made(v) });
    },
    methods: () =>
      fuzzInputs({
        inputs: ['id', 'now'],
        valid: { id: 'x' },
        call: (v) => {
          dedup.isDuplicate(v.id as never, v.now as never);
          dedup.markSeen(v.id as never, v.now as never);
          dedup.checkAndMark(v.id as never, v.now as never);
          return dedup.stats();
        },
      }),
  };
};

export const fuzzRateLimiter = () => {
  const options = ['rate', 'intervalMs', 'burst', 'onLimit', 'maxKeys', 'maxWaiting', 'clock'];
  const made = async (options: unknown) => {
    const limiter = new RateLimiter(options as never);
    limiter.tryTake('k');
    await limiter.take('k2');
    return limiter.stats();
  };
  return {
    constructor: async () => {
      await fuzzInputs({ inputs: ['options'], aliases: { options }, call: (v) => made(v.options) });
      await fuzzInputs({ inputs: options, valid: { rate: 10 }, call: (v) => made(v) });
    },
    tryTakeAndStats: () => {
      const limiter = new RateLimiter({ rate: 1000 });
      return fuzzInputs({
        inputs: ['key', 'n', 'now', 'top'],
        valid: { key: 'k', n: 1 },
        call: (v) => {
          limiter.tryTake(v.key as never, v.n as never, v.now as never);
          return limiter.stats(v.top as never);
        },
      });
    },
    take: () =>
      fuzzInputs({
        inputs: ['key', 'n', 'signal'],
        valid: { key: 'k', n: 1 },
        // A take on an empty bucket waits for its tokens (at most 100 ms here): pending is fine.
        mayPend: true,
        waitMs: 5,
        call: (v) => {
          const limiter = new RateLimiter({ rate: 1, intervalMs: 100, maxWaiting: 1 });
          limiter.tryTake('k');
          return Promise.all([
            limiter.take(v.key as never, v.n as never, v.signal as never),
            limiter.take('k'),
          ]);
        },
      }),
  };
};
