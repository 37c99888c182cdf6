import { EventTooLargeError, InvalidEventError } from '../errors.js';
import {
  EVENT_DEFAULTS,
  type EventInput,
  envelopeFits,
  envelopeProblem,
  type StoredEvent,
} from '../event.js';
import { createEventId } from '../event-id.js';
import { NotSerializableError } from '../json-size.js';
import { eventTypeProblem } from '../pattern/event-type.js';
import type { StandardSchemaV1 } from '../schema/standard-schema.js';
import { validateData } from '../schema/validate-data.js';
import type { PublishScope } from '../telemetry/bus-telemetry.js';
import { injectInto, type ReportTelemetryError } from '../telemetry/traced-calls.js';

/** What the stamper needs from the bus. */
export interface StamperOptions {
  schemas: Map<string, StandardSchemaV1>;
  maxEventBytes: number;
  clock: () => number;
  /** True when `type` is known valid (cached by the subscription index), to skip re-checking it. */
  isKnownType: (type: string) => boolean;
  /** Where a failing telemetry hook is reported. */
  report: ReportTelemetryError;
}

/**
 * Turns publish input into a complete event: validates the envelope, runs the type's
 * schema, fills `id`, `stream` and `time`, and enforces `maxEventBytes`. The event's cursor
 * is its id until a store assigns one.
 */
export class EventStamper {
  readonly #options: StamperOptions;
  /** The clock reading of the last synchronous `stamp` (the bus passes it on instead of reading again). */
  now = 0;

  constructor(options: StamperOptions) {
    this.#options = options;
  }

  /**
   * @param index position in a batch, for error messages
   * @param now the clock's time, read once for a whole batch; read here when omitted
   * @param scope the publish's telemetry scope: it may add meta keys (trace context), sized with the rest
   * @returns the event, or a promise of it when a schema validates asynchronously
   * @throws InvalidEventError, SchemaMismatchError, EventTooLargeError
   */
  stamp(
    input: EventInput,
    index: number | undefined,
    now?: number,
    scope?: PublishScope,
  ): StoredEvent | Promise<StoredEvent> {
    const problem =
      envelopeProblem(input) ??
      (this.#options.isKnownType(input.type) ? undefined : eventTypeProblem(input.type));
    if (problem !== undefined) throw new InvalidEventError(problem, { index });
    const { schemas } = this.#options;
    const schema = schemas.size > 0 ? schemas.get(input.type) : undefined;
    if (schema === undefined) return this.#complete(input, input.data, index, now, scope);
    const data = validateData(schema, input.type, input.data, index);
    // An asynchronous validation completes later: the clock is read then.
    return data instanceof Promise
      ? data.then((valid) => this.#complete(input, valid, index, undefined, scope))
      : this.#complete(input, data, index, now, scope);
  }

  #complete(
    input: EventInput,
    data: unknown,
    index: number | undefined,
    at: number | undefined,
    scope: PublishScope | undefined,
  ): StoredEvent {
    const now = at ?? this.#options.clock();
    this.now = now;
    const generated = input.id === undefined;
    const id = generated ? createEventId(now) : input.id!;
    const event: StoredEvent = {
      id,
      type: input.type,
      stream: input.stream ?? EVENT_DEFAULTS.stream,
      time: input.time ?? now,
      data,
      meta: input.meta,
      cursor: id,
    };
    // Before the size bound: the trace context it adds is stored with the event, so it counts.
    if (scope !== undefined) injectInto(scope, event, this.#options.report);
    const limit = this.#options.maxEventBytes;
    let fits: boolean;
    try {
      fits = envelopeFits(event, limit);
    } catch (error) {
      if (error instanceof NotSerializableError) {
        throw new InvalidEventError(`expected "data" to be JSON-serializable: ${error.message}`, {
          index,
          cause: error,
        });
      }
      // A getter, a toJSON or a proxy trap of the caller's data threw while it was measured.
      const reason = error instanceof Error ? error.message : 'a non-Error was thrown';
      throw new InvalidEventError(
        `expected "data" and "meta" to be readable, but reading them threw: ${reason}`,
        {
          index,
          cause: error,
        },
      );
    }
    if (!fits) throw new EventTooLargeError(limit, { index });
    return event;
  }
}
