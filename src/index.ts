export type { BusHealth, GroupHealth, HealthError } from './bus/bus-health.js';
export type { BusStats } from './bus/bus-stats.js';
export { createErrorLogger, ERROR_LOG_DEFAULTS, type ErrorLoggerOptions } from './bus/error-logger.js';
export { type BusCloseOptions, EventBus } from './bus/event-bus.js';
export type { ErrorContext, EventBusOptions, EventSchemas } from './bus/options.js';
export type {
  AnyEventOf,
  EventMap,
  EventMatching,
  PatternOf,
  PublishInput,
  TypesMatching,
} from './bus/typed-events.js';
export {
  DEDUP_DEFAULTS,
  Deduplicator,
  type DeduplicatorOptions,
  type DeduplicatorStats,
} from './dedup/deduplicator.js';
export {
  BufferOverflowError,
  BuslineError,
  type BuslineErrorCode,
  ClosedError,
  EventTooLargeError,
  HistoryTruncatedError,
  InvalidEventError,
  InvalidOptionError,
  InvalidPatternError,
  ModuleLoadError,
  RateLimitedError,
  type SchemaIssue,
  SchemaMismatchError,
  StoreUnavailableError,
  TimeoutError,
  UnexpectedResponseError,
} from './errors.js';
export { type BusEvent, EVENT_DEFAULTS, type EventInput, type EventMeta, type StoredEvent } from './event.js';
export { createEventId } from './event-id.js';
export type { Consumer, ConsumerCloseOptions, ConsumerStats } from './groups/consumer.js';
export {
  CONSUME_DEFAULTS,
  CONSUMER_GROUP_LIMITS,
  type ConsumeOptions,
  type ConsumerContext,
  type ConsumerHandler,
} from './groups/consumer-group-options.js';
export type { DeadLetter, DeadLetters, DeliveryError } from './groups/dead-letters.js';
export {
  type OnLimit,
  RATE_LIMIT_DEFAULTS,
  RateLimiter,
  type RateLimiterLike,
  type RateLimiterOptions,
  type RateLimiterStats,
} from './limit/rate-limiter.js';
export { PATTERN_LIMITS } from './pattern/limits.js';
export { type ParsedPattern, parsePattern } from './pattern/parse.js';
export { TypeMatcher } from './pattern/type-matcher.js';
export type { PublishResult } from './publish/publish-result.js';
export type { StandardSchemaV1 } from './schema/standard-schema.js';
export { checkAppendInput } from './store/append-input.js';
export {
  type AppendResult,
  type EventStore,
  READ_LIMITS,
  type ReadPage,
  type ReadQuery,
  type StoreStats,
  type TailOptions,
} from './store/event-store.js';
export {
  MEMORY_STORE_DEFAULTS,
  MemoryEventStore,
  type MemoryEventStoreOptions,
} from './store/memory/memory-event-store.js';
export { type CheckedReadQuery, checkReadQuery } from './store/read-query.js';
export type {
  OverflowPolicy,
  Subscription,
  SubscriptionStats,
} from './subscription/buffered-subscription.js';
export { HistoryTruncated } from './subscription/history-truncated.js';
export type {
  OnceOptions,
  OnOptions,
  PublishOptions,
  ReadyOptions,
  SelectOptions,
  StartFrom,
  SubscribeOptions,
} from './subscription/subscribe-options.js';
export type {
  BusTelemetry,
  ProcessOutcome,
  ProcessScope,
  ProcessStart,
  PublishOutcome,
  PublishScope,
  TelemetrySource,
} from './telemetry/bus-telemetry.js';
