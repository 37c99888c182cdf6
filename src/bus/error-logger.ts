import { BuslineError, InvalidOptionError } from '../errors.js';
import { describe } from '../event.js';
import { optionalFunction, optionsObject, positiveInteger } from '../option-checks.js';
import type { ErrorContext } from './options.js';

/** The bounds of the default `onError` logger. */
export const ERROR_LOG_DEFAULTS = {
  /** Distinct failures it remembers to count their repeats; the least recently seen goes first. */
  maxDistinct: 100,
  /** A failure that keeps repeating is summarised at most this often (on its next repeat). */
  summaryIntervalMs: 60_000,
  /** Longest line it prints: a message may carry user data. */
  maxLineLength: 1000,
  /** Causes it follows into the line (`cause` of `cause`…). */
  maxCauses: 3,
} as const;

export interface ErrorLoggerOptions {
  /** Where lines go. @default console.error */
  write?: (line: string) => void;
  /** Time source for the summary interval. @default Date.now */
  clock?: () => number;
  maxDistinct?: number;
  summaryIntervalMs?: number;
}

interface Seen {
  /** The line without the event, repeated in summaries. */
  line: string;
  source: ErrorContext['source'];
  /** Repeats not reported yet. */
  repeats: number;
  /** When the failure was last reported (first seen or summarised). */
  since: number;
}

/**
 * The bus's default `onError`: each distinct failure (source, patterns, error name, code and
 * message) is printed once, on one line, with its causes and, for an error thrown by user code,
 * where it was thrown. Repeats are counted, not printed: a feed retrying a dead store every
 * 250 ms printed a full stack trace each time. The count is printed when another failure of the
 * same source comes along, and with the next repeat once `summaryIntervalMs` has passed. It
 * sets no timer (a logger must not keep a process alive), so a count is printed only when
 * something is reported. Remembers at most `maxDistinct` failures.
 */
export function createErrorLogger(
  options?: ErrorLoggerOptions,
): (error: unknown, context: ErrorContext) => void {
  const o = optionsObject('createErrorLogger', options);
  const write = optionalFunction('write', o.write) ?? ((line: string) => console.error(line));
  const clock = optionalFunction('clock', o.clock) ?? Date.now;
  const maxDistinct = positiveInteger('maxDistinct', o.maxDistinct, ERROR_LOG_DEFAULTS.maxDistinct);
  const intervalMs = o.summaryIntervalMs ?? ERROR_LOG_DEFAULTS.summaryIntervalMs;
  if (typeof intervalMs !== 'number' || !(intervalMs >= 0)) {
    throw new InvalidOptionError(
      `Expected \`summaryIntervalMs\` to be a number of ms ≥ 0, got ${describe(intervalMs)}`,
    );
  }
  /** Insertion order is recency: a repeat moves its failure to the end. */
  const recent = new Map<string, Seen>();

  const summarise = (seen: Seen, now: number): void => {
    if (seen.repeats === 0) return;
    const times = seen.repeats === 1 ? 'once more' : `${seen.repeats} more times`;
    write(clip(`${seen.line} (repeated ${times} in ${Math.round((now - seen.since) / 1000)} s)`));
    seen.repeats = 0;
    seen.since = now;
  };

  return (error, context) => {
    const now = clock();
    // Called by hand too: a logger must not throw on what it is given, whatever that is.
    context = safeContext(context);
    // The live feed serves every pattern: it has none of its own to name.
    const of = context.patterns.length > 0 ? ` of ${context.patterns.join(', ')}` : '';
    const failure = describeFailure(error);
    const key = clip(`${context.source}${of}: ${failure}`);
    const seen = recent.get(key);
    if (seen !== undefined) {
      recent.delete(key);
      recent.set(key, seen);
      seen.repeats++;
      if (now - seen.since >= intervalMs) summarise(seen, now);
      return;
    }
    // Something else went wrong here: first say how often what went wrong before repeated.
    for (const other of recent.values()) if (other.source === context.source) summarise(other, now);
    const where = context.event ? ` delivering "${context.event.type}"` : '';
    write(clip(`[busline] ${context.source}${of} failed${where}: ${failure}`));
    recent.set(key, {
      line: clip(`[busline] ${context.source}${of} failed: ${failure}`),
      source: context.source,
      repeats: 0,
      since: now,
    });
    if (recent.size > maxDistinct) {
      const [oldestKey, oldest] = recent.entries().next().value!;
      recent.delete(oldestKey);
      summarise(oldest, now);
    }
  };
}

/** The context as the logger reads it: a source and pattern strings, the event's type if any. */
function safeContext(context: unknown): ErrorContext {
  const c = (typeof context === 'object' && context !== null ? context : {}) as Partial<ErrorContext>;
  const source = typeof c.source === 'string' ? c.source : 'unknown';
  const patterns = Array.isArray(c.patterns) ? c.patterns.map((p) => (typeof p === 'string' ? p : '?')) : [];
  const event = c.event;
  const type = typeof event === 'object' && event !== null ? (event as { type?: unknown }).type : undefined;
  return {
    source: source as ErrorContext['source'],
    patterns,
    ...(typeof type === 'string' ? { event: { type } as ErrorContext['event'] } : {}),
  };
}

/** `Name [CODE]: message`, then the causes that add something, then where user code threw it. */
function describeFailure(error: unknown): string {
  try {
    return describeChain(error);
  } catch {
    // A hostile error (a throwing getter, a Symbol message, a revoked Proxy).
    return 'a failure that could not be described';
  }
}

function describeChain(error: unknown): string {
  let text = describeOne(error);
  let cause = error instanceof Error ? error.cause : undefined;
  for (let i = 0; i < ERROR_LOG_DEFAULTS.maxCauses && cause !== undefined; i++) {
    const described = describeOne(cause);
    // A wrapper usually repeats its cause's message: say it once.
    const message = cause instanceof Error ? cause.message : described;
    if (!text.includes(message)) text += ` (cause: ${described})`;
    cause = cause instanceof Error ? cause.cause : undefined;
  }
  // busline's own errors say what happened; a handler's or filter's needs a place to look at.
  if (error instanceof Error && !(error instanceof BuslineError)) {
    const frame = error.stack?.split('\n').find((line) => line.trimStart().startsWith('at '));
    if (frame !== undefined) text += ` (${frame.trim()})`;
  }
  return text;
}

function describeOne(value: unknown): string {
  if (!(value instanceof Error)) return typeof value === 'string' ? value : safeString(value);
  const code = (value as { code?: unknown }).code;
  const tag = typeof code === 'string' || typeof code === 'number' ? ` [${code}]` : '';
  return `${value.name}${tag}: ${value.message}`;
}

function safeString(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    // Cycles, BigInts, objects without a prototype (String() would throw on those too).
    return Object.prototype.toString.call(value);
  }
}

function clip(line: string): string {
  const max = ERROR_LOG_DEFAULTS.maxLineLength;
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}
