import { InvalidEventError } from '../../errors.js';

/** An entry under the store's prefix that is not a busline event, and why. */
export interface InvalidEntry {
  /** The Redis key it was read from (the log, a stream key, or a consumer group's `again` stream). */
  key: string;
  /** Its Redis stream id (`XDEL key id` removes it). */
  id: string;
  /** Code `INVALID_EVENT`; `cause` holds the JSON error, if any. */
  error: InvalidEventError;
}

/** `RedisEventStore({ onInvalidEntry })`: told once per entry that is skipped. */
export type InvalidEntryHandler = (entry: InvalidEntry) => void;

/** Entry ids remembered as reported; past it the memory starts over (an entry may then be reported again). */
const REMEMBERED = 1024;

/**
 * Reports entries that cannot be decoded (something other than busline wrote under the
 * prefix): once per entry, to the store's `onInvalidEntry` or else a console warning. The
 * reader skips the entry and goes on: one bad entry must not stop the live feed, a replay or
 * a consumer group (a tail that threw on it would be restarted on it forever).
 */
export class InvalidEntries {
  readonly #handler: InvalidEntryHandler;
  readonly #reported = new Set<string>();

  constructor(handler: InvalidEntryHandler | undefined) {
    this.#handler = handler ?? warn;
  }

  /** `key`, `id`: where the entry is; `reason`, `cause`: why it is not an event. */
  report(key: string, id: string, reason: string, cause?: unknown): void {
    const seen = `${key} ${id}`;
    if (this.#reported.has(seen)) return;
    if (this.#reported.size >= REMEMBERED) this.#reported.clear();
    this.#reported.add(seen);
    const error = new InvalidEventError(
      `Skipped entry ${id} of ${key}: ${reason}. Something other than busline wrote it under this prefix; it is left in place (XDEL removes it)`,
      { cause },
    );
    try {
      this.#handler({ key, id, error });
    } catch {
      // A throwing handler must not stop the reader either.
    }
  }
}

function warn({ error }: InvalidEntry): void {
  console.warn(`busline/redis: ${error.message}`);
}
