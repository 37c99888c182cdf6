/** Applies `bus.consume`'s options (consumer-group-options.ts): loaded with the consumer groups, on first use. */
import { InvalidOptionError } from '../errors.js';
import { describe } from '../event.js';
import { CONSUME_DEFAULTS, CONSUMER_GROUP_LIMITS, type ConsumeOptions } from './consumer-group-options.js';
import { checkGroupName } from './group-name.js';

export interface ResolvedConsumeOptions {
  group: string;
  concurrency: number;
  maxDeliveries: number;
  retryDelayMs: number;
  maxRetryDelayMs: number;
  ackTimeoutMs: number;
  from: 'now' | 'start';
}

/** Applies defaults and rejects impossible values, naming the option and the value. */
export function resolveConsumeOptions(options: unknown): ResolvedConsumeOptions {
  if (options === null || typeof options !== 'object') {
    throw new InvalidOptionError(
      `Expected consume options to be an object with a \`group\`, got ${describe(options)}`,
    );
  }
  const o = options as ConsumeOptions;
  const from = o.from ?? CONSUME_DEFAULTS.from;
  if (from !== 'now' && from !== 'start') {
    throw new InvalidOptionError(`Expected \`from\` to be 'now' or 'start', got ${describe(from)}`);
  }
  const retryDelayMs = integer('retryDelayMs', o.retryDelayMs, CONSUME_DEFAULTS.retryDelayMs, 0);
  return {
    group: checkGroupName(o.group),
    concurrency: integer(
      'concurrency',
      o.concurrency,
      CONSUME_DEFAULTS.concurrency,
      1,
      CONSUMER_GROUP_LIMITS.maxConcurrency,
    ),
    maxDeliveries: integer('maxDeliveries', o.maxDeliveries, CONSUME_DEFAULTS.maxDeliveries, 1),
    retryDelayMs,
    // A cap below the base delay would make the base meaningless: the larger of the two wins.
    maxRetryDelayMs: Math.max(
      retryDelayMs,
      integer('maxRetryDelayMs', o.maxRetryDelayMs, CONSUME_DEFAULTS.maxRetryDelayMs, 0),
    ),
    ackTimeoutMs: integer('ackTimeoutMs', o.ackTimeoutMs, CONSUME_DEFAULTS.ackTimeoutMs, 1),
    from,
  };
}

/** `consumer.close({ timeoutMs })`: `undefined` waits for every in-flight handler (each bounded by ackTimeoutMs). */
export function checkCloseTimeout(timeoutMs: unknown): number | undefined {
  return timeoutMs === undefined ? undefined : integer('timeoutMs', timeoutMs, 0, 0);
}

/** Backoff after the `deliveries`-th delivery failed: retryDelayMs × 2^(deliveries − 1), capped. */
export function retryDelay(options: ResolvedConsumeOptions, deliveries: number): number {
  const exponent = Math.min(Math.max(deliveries - 1, 0), 52);
  return Math.min(options.retryDelayMs * 2 ** exponent, options.maxRetryDelayMs);
}

function integer(
  name: string,
  value: unknown,
  fallback: number,
  min: number,
  max: number = CONSUMER_GROUP_LIMITS.maxTimerMs,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidOptionError(
      `Expected \`${name}\` to be an integer from ${min} to ${max}, got ${describe(value)}`,
    );
  }
  return value;
}
