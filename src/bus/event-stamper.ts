import { EventTooLargeError, InvalidEventError } from '../errors.js';
import {
  EVENT_DEFAULTS,
  type EventInput,
  envelopeFits,
  envelopeProblem,
  type StoredEvent,
} from '../event.js';
import { createEventId } from '../event-id.js';
import { NotSerializableError, stringBytes } from '../json-size.js';
import { eventTypeProblem } from '../pattern/event-type.js';
import type { StandardSchemaV1 } from '../schema/standard-schema.js';
import { validateData } from '../schema/validate-data.js';

/** A UUIDv7 is 36 ASCII characters; quoted in JSON, 38 bytes. */
const GENERATED_ID_BYTES = 38;
const NAME_CACHE_SIZE = 1024;

/** What the stamper needs from the bus. */
export interface StamperOptions {
  schemas: Map<string, StandardSchemaV1>;
  maxEventBytes: number;
  clock: () => number;
  /** True when `type` is known valid (cached by the subscription index), to skip re-checking it. */
  isKnownType: (type: string) => boolean;
}

/**
 * Turns publish input into a complete event: validates the envelope, runs the type's
 * schema, fills `id`, `stream` and `time`, and enforces `maxEventBytes`. The event's cursor
 * is its id until a store assigns one.
 */
export class EventStamper {
  readonly #options: StamperOptions;
  /** JSON sizes of recent types and streams: the same few names recur on almost every publish. */
  readonly #nameBytes = new Map<string, number>();
  /** The clock reading of the last synchronous `stamp` (the bus passes it on instead of reading again). */
  now = 0;

  constructor(options: StamperOptions) {
    this.#options = options;
  }

  /**
   * @param index position in a batch, for error messages
   * @returns the event, or a promise of it when a schema validates asynchronously
   * @throws InvalidEventError, SchemaMismatchError, EventTooLargeError
   */
  stamp(input: EventInput, index: number | undefined): StoredEvent | Promise<StoredEvent> {
    const problem =
      envelopeProblem(input) ??
      (this.#options.isKnownType(input.type) ? undefined : eventTypeProblem(input.type));
    if (problem !== undefined) throw new InvalidEventError(problem, { index });
    const { schemas } = this.#options;
    const schema = schemas.size > 0 ? schemas.get(input.type) : undefined;
    if (schema === undefined) return this.#complete(input, input.data, index);
    const data = validateData(schema, input.type, input.data, index);
    return data instanceof Promise
      ? data.then((valid) => this.#complete(input, valid, index))
      : this.#complete(input, data, index);
  }

  #complete(input: EventInput, data: unknown, index: number | undefined): StoredEvent {
    const now = this.#options.clock();
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
    const limit = this.#options.maxEventBytes;
    let fits: boolean;
    try {
      const idBytes = generated ? GENERATED_ID_BYTES : stringBytes(id);
      fits = envelopeFits(event, limit, idBytes + this.#bytesOf(event.type) + this.#bytesOf(event.stream));
    } catch (error) {
      if (!(error instanceof NotSerializableError)) throw error;
      throw new InvalidEventError(`expected "data" to be JSON-serializable: ${error.message}`, {
        index,
        cause: error,
      });
    }
    if (!fits) throw new EventTooLargeError(limit, { index });
    return event;
  }

  #bytesOf(name: string): number {
    let bytes = this.#nameBytes.get(name);
    if (bytes === undefined) {
      bytes = stringBytes(name);
      if (this.#nameBytes.size >= NAME_CACHE_SIZE) this.#nameBytes.clear();
      this.#nameBytes.set(name, bytes);
    }
    return bytes;
  }
}
