// `busline/redis`: the store, the shared limiter and the client adapters, fuzzed against the real
// Redis (a connected node-redis client from the test file; every key under a prefix of its own).
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import type * as redis from '../../../src/redis/index.js';
import {
  CommandNotSentError,
  ioredisClient,
  nodeRedisClient,
  RedisEventStore,
  RedisRateLimiter,
} from '../../../src/redis/index.js';
import { REDIS_URL } from '../../redis/store/redis-fixtures.js';
import { anyValue, hostileString, soon } from '../hostile.js';
import { fuzzInputs, type SurfaceCase } from './input-fuzz.js';

export interface RedisFixture {
  client: unknown;
  /** The prefix of this file's run: everything written lives under prefixes starting with it. */
  prefix: string;
  /** Remembers a prefix to delete once the file is done. */
  used(prefix: string): void;
}

const STORE_OPTIONS = [
  'client',
  'prefix',
  'maxEventsPerStream',
  'maxEvents',
  'retentionMs',
  'blockMs',
  'tailBatchSize',
  'commandTimeoutMs',
  'groupPollMs',
  'clock',
  'readScanLimit',
  'appendChunkEvents',
  'appendChunkBytes',
  'maxEventBytes',
  'maxGroupPatterns',
  'onInvalidEntry',
];
const LIMITER_OPTIONS = [
  'client',
  'prefix',
  'rate',
  'intervalMs',
  'burst',
  'onLimit',
  'maxWaiting',
  'commandTimeoutMs',
];
const QUERY = ['after', 'types', 'stream', 'since', 'until', 'limit', 'direction'];
/** Stands for a live AbortSignal the run aborts when done (a fuzzed one may never abort). */
const LIVE = Symbol('live signal');

export function redisSurface(fixture: () => RedisFixture): Record<keyof typeof redis, SurfaceCase> {
  /** A fuzzed prefix kept hostile but made unique (never the shared default `busline`). */
  const prefixed = (values: Record<string, unknown>): Record<string, unknown> => {
    const { prefix, used } = fixture();
    const own = `${prefix}:${randomBytes(3).toString('hex')}`;
    const value = typeof values.prefix === 'string' ? `${own}${values.prefix}` : (values.prefix ?? own);
    if (typeof value === 'string') used(value);
    return { ...values, prefix: value };
  };
  const opened: RedisEventStore[] = [];
  const closeOpened = () => Promise.all(opened.splice(0).map((store) => store.close()));
  const store = (options: Record<string, unknown> = {}) => {
    const made = new RedisEventStore(prefixed({ client: fixture().client, ...options }) as never);
    opened.push(made);
    return made;
  };
  const event = () => ({ id: randomBytes(6).toString('hex'), type: 'a.b', stream: 's', time: 1, data: 1 });
  const limiter = () =>
    new RedisRateLimiter(prefixed({ client: fixture().client, rate: 1000, burst: 2 }) as never);

  return {
    RedisEventStore: {
      fuzz: {
        constructor: async () => {
          const made = async (options: unknown) => {
            const store = new RedisEventStore(options as never);
            opened.push(store);
            // Whatever the constructor accepted must work.
            await store.append([event()]);
            await store.read({ limit: 1 });
            await store.stats();
          };
          await fuzzInputs({
            inputs: ['options'],
            aliases: { options: STORE_OPTIONS },
            call: (v) => made(v.options),
            after: closeOpened,
          });
          await fuzzInputs({
            inputs: STORE_OPTIONS,
            valid: { client: fixture().client },
            // The check append may be larger than a small (valid) maxEventBytes.
            outcomes: ['EVENT_TOO_LARGE'],
            call: (v) => made(prefixed(v)),
            after: closeOpened,
          });
        },
        methods: async () => {
          const shared = store({ retentionMs: 60_000 });
          await shared.append([event()]);
          await fuzzInputs({
            inputs: ['events', 'id', 'now', 'query'],
            valid: { events: [event()], id: 'x', now: Date.now(), query: {} },
            arbitraries: { events: fc.oneof(anyValue, fc.array(anyValue, { maxLength: 2 })) },
            aliases: { events: ['id', 'type', 'stream', 'time', 'data', 'meta'], query: QUERY },
            call: async (v) => {
              await shared.append(v.events as never);
              await shared.has(v.id as never);
              await shared.cleanup(v.now as never);
              await shared.read(v.query as never);
              await shared.stats();
            },
          });
          await fuzzInputs({
            inputs: QUERY,
            arbitraries: { types: fc.oneof(anyValue, fc.array(hostileString, { maxLength: 2 })) },
            patternInputs: ['types'],
            call: (v) => shared.read(v),
          });
          await closeOpened();
        },
        tail: () => {
          const controller = { current: new AbortController() };
          return fuzzInputs({
            inputs: ['after', 'signal'],
            valid: { after: 'now', signal: LIVE },
            arbitraries: { signal: fc.oneof(anyValue, fc.constant(LIVE)) },
            numRuns: 50,
            call: async (v) => {
              const signal = v.signal === LIVE ? controller.current.signal : v.signal;
              const iterator = store({ blockMs: 10 })
                .tail(v.after as never, signal as never)
                [Symbol.asyncIterator]();
              await soon(iterator.next(), 20);
            },
            // Closing the store ends its tails, whatever signal they were given.
            after: async () => {
              controller.current.abort();
              controller.current = new AbortController();
              await closeOpened();
            },
          });
        },
      },
    },
    RedisRateLimiter: {
      fuzz: {
        constructor: async () => {
          const made = async (options: unknown) => {
            const limiter = new RedisRateLimiter(options as never);
            await limiter.tryTake('k');
            return limiter.stats();
          };
          await fuzzInputs({
            inputs: ['options'],
            aliases: { options: LIMITER_OPTIONS },
            call: (v) => made(v.options),
          });
          await fuzzInputs({
            inputs: LIMITER_OPTIONS,
            valid: { client: fixture().client, rate: 10 },
            call: (v) => made(prefixed(v)),
          });
        },
        methods: () => {
          const shared = limiter();
          return fuzzInputs({
            inputs: ['key', 'n', 'signal'],
            valid: { key: 'k', n: 1 },
            // A take may wait for tokens (a few ms here): pending is fine.
            mayPend: true,
            waitMs: 50,
            call: async (v) => {
              await shared.tryTake(v.key as never, v.n as never);
              await shared.take(v.key as never, v.n as never, v.signal as never);
              return shared.stats();
            },
          });
        },
      },
    },
    nodeRedisClient: {
      // The connection's own send/duplicate are the store's port: a Redis error reply passes
      // through them by contract (the store turns it into StoreUnavailableError).
      fuzz: {
        call: () =>
          fuzzInputs({
            inputs: ['client'],
            valid: { client: fixture().client },
            call: (v) => nodeRedisClient(v.client as never).isOpen,
          }),
      },
    },
    ioredisClient: {
      fuzz: {
        call: async () => {
          const client = new Redis(REDIS_URL, { lazyConnect: true });
          try {
            await fuzzInputs({
              inputs: ['client'],
              valid: { client },
              call: (v) => ioredisClient(v.client as never).isOpen,
            });
          } finally {
            client.disconnect();
          }
        },
      },
    },
    CommandNotSentError: {
      fuzz: {
        constructor: () =>
          fuzzInputs({
            inputs: ['message', 'options'],
            arbitraries: { message: hostileString },
            call: (v) => new CommandNotSentError(v.message as never, v.options as never),
          }),
      },
    },
    REDIS_STORE_DEFAULTS: { notCallable: 'constant' },
  };
}
