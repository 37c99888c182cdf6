/**
 * How the bus drives its telemetry port (bus-telemetry.ts): every call into the port is
 * isolated like a handler, so a failing tracer is reported to `onError` (source `telemetry`)
 * and never fails a publish or a delivery.
 */
import type { StoredEvent } from '../event.js';
import type {
  BusTelemetry,
  ProcessOutcome,
  ProcessScope,
  ProcessStart,
  PublishOutcome,
  PublishScope,
} from './bus-telemetry.js';

export type ReportTelemetryError = (error: unknown) => void;

const OK: ProcessOutcome = Object.freeze({ status: 'ok' });

/** A publish's scope, or undefined when the telemetry traces no publish (or failed to start one). */
export function startPublish(
  telemetry: BusTelemetry,
  batch: boolean,
  count: number,
  report: ReportTelemetryError,
): PublishScope | undefined {
  try {
    return telemetry.publish?.({ batch, count }) ?? undefined;
  } catch (error) {
    report(error);
    return undefined;
  }
}

/** The meta keys the scope adds to `event` (its trace context), merged into a copy of its meta. */
export function injectInto(scope: PublishScope, event: StoredEvent, report: ReportTelemetryError): void {
  let keys: Readonly<Record<string, string>> | undefined;
  try {
    keys = scope.inject?.(event);
  } catch (error) {
    report(error);
    return;
  }
  // A copy: the caller's meta object is theirs and may be reused for other events.
  if (keys !== undefined) (event as { meta: StoredEvent['meta'] }).meta = { ...event.meta, ...keys };
}

/** Ends the scope once `publishing` settles; returns `publishing` unchanged. */
export function endPublish<R extends PublishOutcome | readonly PublishOutcome[]>(
  scope: PublishScope,
  publishing: Promise<R>,
  report: ReportTelemetryError,
): Promise<R> {
  const end = (outcomes: readonly PublishOutcome[] | undefined, error?: unknown): void => {
    try {
      scope.end(outcomes, error);
    } catch (failure) {
      report(failure);
    }
  };
  publishing.then(
    (result) => end(Array.isArray(result) ? result : [result as PublishOutcome]),
    (error: unknown) => end(undefined, error),
  );
  return publishing;
}

/**
 * Wraps a handler so that each call runs in a process scope. Made once per subscription, so
 * a bus without telemetry (or one that traces no processing) keeps the plain handler.
 */
export function traceCalls<A extends unknown[], R>(
  telemetry: BusTelemetry | undefined,
  call: (...args: A) => R,
  describe: (...args: A) => ProcessStart,
  failed: (error: unknown, ...args: A) => ProcessOutcome,
  report: ReportTelemetryError,
): (...args: A) => R {
  if (telemetry?.process === undefined) return call;
  return (...args: A): R => {
    let scope: ProcessScope | undefined;
    try {
      scope = telemetry.process!(describe(...args)) ?? undefined;
    } catch (error) {
      report(error);
    }
    if (scope === undefined) return call(...args);
    return runInScope(
      scope,
      () => call(...args),
      (error) => failed(error, ...args),
      report,
    );
  };
}

/** Makes `call` through the scope and ends the scope when its result settles (now, or its promise). */
function runInScope<R>(
  scope: ProcessScope,
  call: () => R,
  failed: (error: unknown) => ProcessOutcome,
  report: ReportTelemetryError,
): R {
  const end = (outcome: ProcessOutcome): void => {
    try {
      scope.end(outcome);
    } catch (error) {
      report(error);
    }
  };
  let result: R;
  try {
    result = scope.run(call);
  } catch (error) {
    end(failed(error));
    throw error;
  }
  if (result !== null && typeof (result as PromiseLike<unknown> | undefined)?.then === 'function') {
    (result as PromiseLike<unknown>).then(
      () => end(OK),
      (error: unknown) => end(failed(error)),
    );
  } else end(OK);
  return result;
}
