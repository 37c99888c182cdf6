import { InvalidOptionError } from '../errors.js';
import { EVENT_DEFAULTS, type StoredEvent } from '../event.js';
import { positiveInteger } from '../option-checks.js';
import { DEFAULT_MATCH_CACHE_SIZE } from '../pattern/subscription-index.js';
import type { StandardSchemaV1 } from '../schema/standard-schema.js';
import type { EventStore } from '../store/event-store.js';
import { MemoryEventStore } from '../store/memory/memory-event-store.js';
import type { EventMap } from './typed-events.js';

/** Where a failure reported to `onError` happened. */
export interface ErrorContext {
  /** `handler`: an `on()` handler threw or rejected; `filter`: a filter threw; `subscription`: an iterator failed (overflow). */
  source: 'handler' | 'filter' | 'subscription';
  /** The patterns of the subscription involved. */
  patterns: readonly string[];
  /** The event being delivered, when there was one. */
  event?: StoredEvent;
}

export interface EventBusOptions<Events extends EventMap = EventMap> {
  /**
   * Where events are kept for replay. `null` = pure pub/sub: no history, `subscribe` only
   * `from: 'now'`, and `cursor` equals the event id.
   * @default new MemoryEventStore()
   */
  store?: EventStore | null;
  /** Per-type validators (zod or any Standard Schema); a mismatch rejects with `SCHEMA_MISMATCH`. */
  schemas?: { [K in keyof Events & string]?: StandardSchemaV1 };
  /** Largest serialized envelope (UTF-8 JSON bytes). @default 65536 */
  maxEventBytes?: number;
  /**
   * Receives every handler, filter and iterator failure; publish never fails because of them.
   * @default logs with console.error
   */
  onError?: (error: unknown, context: ErrorContext) => void;
  /** Time source for `event.time` and ids; inject a fake clock in tests. @default Date.now */
  clock?: () => number;
  /** Most async handler calls running at once, across all `on()` handlers of this bus. @default 64 */
  handlerConcurrency?: number;
  /** Event types whose subscriber lists are cached. @default 1024 */
  matchCacheSize?: number;
}

export interface ResolvedBusOptions {
  store: EventStore | null;
  schemas: Map<string, StandardSchemaV1>;
  maxEventBytes: number;
  onError: (error: unknown, context: ErrorContext) => void;
  clock: () => number;
  handlerConcurrency: number;
  matchCacheSize: number;
}

export const BUS_DEFAULTS = {
  maxEventBytes: EVENT_DEFAULTS.maxEventBytes,
  handlerConcurrency: 64,
  matchCacheSize: DEFAULT_MATCH_CACHE_SIZE,
} as const;

function logError(error: unknown, context: ErrorContext): void {
  const where = context.event ? ` delivering "${context.event.type}"` : '';
  console.error(`[busline] ${context.source} of ${context.patterns.join(', ')} failed${where}:`, error);
}

/** Applies defaults and rejects impossible values up front, naming the option and the value. */
export function resolveBusOptions(options: EventBusOptions<EventMap>): ResolvedBusOptions {
  const store = options.store === undefined ? new MemoryEventStore() : options.store;
  if (store !== null && (typeof store.append !== 'function' || typeof store.read !== 'function')) {
    throw new InvalidOptionError('Expected `store` to be an EventStore (append, read, stats, close) or null');
  }
  const schemas = new Map<string, StandardSchemaV1>();
  for (const [type, schema] of Object.entries(options.schemas ?? {})) {
    if (schema === undefined) continue;
    if (typeof (schema as Partial<StandardSchemaV1>)['~standard']?.validate !== 'function') {
      throw new InvalidOptionError(`Expected \`schemas["${type}"]\` to be a Standard Schema (zod, valibot…)`);
    }
    schemas.set(type, schema);
  }
  for (const [name, fn] of [
    ['onError', options.onError],
    ['clock', options.clock],
  ] as const) {
    if (fn !== undefined && typeof fn !== 'function') {
      throw new InvalidOptionError(`Expected \`${name}\` to be a function, got ${typeof fn}`);
    }
  }
  return {
    store,
    schemas,
    maxEventBytes: positiveInteger('maxEventBytes', options.maxEventBytes, BUS_DEFAULTS.maxEventBytes),
    onError: options.onError ?? logError,
    clock: options.clock ?? Date.now,
    handlerConcurrency: positiveInteger(
      'handlerConcurrency',
      options.handlerConcurrency,
      BUS_DEFAULTS.handlerConcurrency,
    ),
    matchCacheSize: positiveInteger('matchCacheSize', options.matchCacheSize, BUS_DEFAULTS.matchCacheSize),
  };
}
