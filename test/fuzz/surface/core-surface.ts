// `busline`: every runtime export and how it is fuzzed (EventBus in bus-surface.ts, the stores,
// deduplicator and limiter in component-surface.ts).
import fc from 'fast-check';
import * as core from '../../../src/index.js';
import {
  checkAppendInput,
  checkReadQuery,
  createEventId,
  HistoryTruncated,
  parsePattern,
  TypeMatcher,
} from '../../../src/index.js';
import { anyValue, hostileString, hostileValue } from '../hostile.js';
import { eventBusCase } from './bus-surface.js';
import {
  eventList,
  FIELDS,
  fuzzDeduplicator,
  fuzzMemoryStore,
  fuzzRateLimiter,
  patternList,
  QUERY,
} from './component-surface.js';
import { fuzzInputs, type SurfaceCase } from './input-fuzz.js';

/** Error classes: constructed with any message and options, they keep their code and name. */
function errorCase(make: (message: unknown, options: unknown) => core.BuslineError): SurfaceCase {
  return {
    fuzz: {
      constructor: () =>
        fuzzInputs({
          inputs: ['message', 'options'],
          arbitraries: {
            // Of their declared types (busline makes these; a message is a string, an index a
            // number), with hostile contents; a `cause` may be anything.
            message: hostileString,
            options: fc.oneof(
              hostileString,
              fc.record(
                { cause: anyValue, index: fc.integer(), after: hostileString, oldest: hostileString },
                { requiredKeys: [] },
              ),
            ),
          },
          call: (v) => {
            const error = make(v.message, v.options);
            if (!(error instanceof core.BuslineError) || error.name !== error.constructor.name)
              throw new Error(`${error.name} lost its class`);
          },
        }),
    },
  };
}

const issues = fc.array(fc.record({ message: hostileString, path: hostileString }), { maxLength: 3 });

export const coreSurface: Record<keyof typeof core, SurfaceCase> = {
  EventBus: eventBusCase,
  MemoryEventStore: { fuzz: fuzzMemoryStore() },
  Deduplicator: { fuzz: fuzzDeduplicator() },
  RateLimiter: { fuzz: fuzzRateLimiter() },
  TypeMatcher: {
    fuzz: {
      constructorAndMatches: () =>
        fuzzInputs({
          inputs: ['patterns', 'type'],
          valid: { patterns: ['a.*'], type: 'a.b' },
          arbitraries: { patterns: patternList },
          patternInputs: ['patterns'],
          call: (v) => new TypeMatcher(v.patterns as never).matches(v.type as never),
        }),
    },
  },
  parsePattern: {
    fuzz: {
      call: () =>
        fuzzInputs({ inputs: ['pattern'], patternInputs: ['pattern'], call: (v) => parsePattern(v.pattern) }),
    },
  },
  createEventId: {
    fuzz: { call: () => fuzzInputs({ inputs: ['nowMs'], call: (v) => createEventId(v.nowMs as never) }) },
  },
  checkReadQuery: {
    fuzz: {
      call: async () => {
        await fuzzInputs({
          inputs: ['query'],
          aliases: { query: QUERY },
          call: (v) => checkReadQuery(v.query as never),
        });
        await fuzzInputs({
          inputs: QUERY,
          arbitraries: { types: patternList },
          patternInputs: ['types'],
          call: (v) => checkReadQuery(v),
        });
      },
    },
  },
  checkAppendInput: {
    fuzz: {
      call: () =>
        fuzzInputs({
          inputs: ['events'],
          arbitraries: { events: eventList },
          aliases: { events: FIELDS },
          call: (v) => checkAppendInput(v.events as never),
        }),
    },
  },
  HistoryTruncated: {
    fuzz: {
      constructor: () =>
        fuzzInputs({
          inputs: ['after', 'message', 'oldest'],
          arbitraries: { after: hostileValue, message: hostileValue, oldest: hostileValue },
          call: (v) => new HistoryTruncated(v.after as never, v.message as never, v.oldest as never),
        }),
    },
  },
  BuslineError: { excluded: 'abstract (no constructor to call): fuzzed through each subclass below' },
  BufferOverflowError: errorCase((m, o) => new core.BufferOverflowError(m as never, o as never)),
  ClosedError: errorCase((m, o) => new core.ClosedError(m as never, o as never)),
  EventTooLargeError: errorCase((m, o) => new core.EventTooLargeError(m as never, o as never)),
  HistoryTruncatedError: errorCase((m, o) => new core.HistoryTruncatedError(m as never, o as never)),
  InvalidEventError: errorCase((m, o) => new core.InvalidEventError(m as never, o as never)),
  InvalidOptionError: errorCase((m, o) => new core.InvalidOptionError(m as never, o as never)),
  InvalidPatternError: errorCase(
    (m, o) => new core.InvalidPatternError(m as never, typeof o === 'string' ? o : 'reason'),
  ),
  RateLimitedError: errorCase((m, o) => new core.RateLimitedError(m as never, o as never)),
  SchemaMismatchError: {
    fuzz: {
      constructor: () =>
        fuzzInputs({
          inputs: ['type', 'issues', 'options'],
          arbitraries: {
            type: hostileString,
            issues,
            options: fc.record({ index: fc.nat() }, { requiredKeys: [] }),
          },
          valid: { type: 't', issues: [] },
          call: (v) =>
            new core.SchemaMismatchError(v.type as never, (v.issues ?? []) as never, v.options as never),
        }),
    },
  },
  StoreUnavailableError: errorCase((m, o) => new core.StoreUnavailableError(m as never, o as never)),
  UnexpectedResponseError: errorCase((m, o) => new core.UnexpectedResponseError(m as never, o as never)),
  TimeoutError: errorCase((m, o) => new core.TimeoutError(m as never, o as never)),
  ModuleLoadError: errorCase((m, o) => new core.ModuleLoadError(m as never, o as never)),
  createErrorLogger: {
    fuzz: {
      options: () =>
        fuzzInputs({
          inputs: ['write', 'clock', 'maxDistinct', 'summaryIntervalMs'],
          valid: { write: () => {} },
          call: (v) => core.createErrorLogger(v as never),
        }),
      // The logger itself takes whatever it is handed (it is called by hand too) and never throws.
      log: () =>
        fuzzInputs({
          inputs: ['error', 'context'],
          arbitraries: {
            context: fc.oneof(
              anyValue,
              fc.record({
                source: anyValue,
                patterns: fc.oneof(anyValue, fc.array(anyValue)),
                event: anyValue,
              }),
            ),
          },
          call: (v) => core.createErrorLogger({ write: () => {} })(v.error, v.context as never),
        }),
    },
  },
  ERROR_LOG_DEFAULTS: { notCallable: 'constant' },
  CONSUMER_GROUP_LIMITS: { notCallable: 'constant' },
  CONSUME_DEFAULTS: { notCallable: 'constant' },
  DEDUP_DEFAULTS: { notCallable: 'constant' },
  EVENT_DEFAULTS: { notCallable: 'constant' },
  MEMORY_STORE_DEFAULTS: { notCallable: 'constant' },
  PATTERN_LIMITS: { notCallable: 'constant' },
  RATE_LIMIT_DEFAULTS: { notCallable: 'constant' },
  READ_LIMITS: { notCallable: 'constant' },
};
