import { InvalidOptionError } from '../errors.js';
import { describe, type StoredEvent } from '../event.js';
import { CONSUMER_GROUP_LIMITS } from './consumer-group-options.js';

/** Why the last delivery of an event failed, reduced to what survives serialization. */
export interface DeliveryError {
  name: string;
  message: string;
}

/** An event a group gave up on after `maxDeliveries` failed deliveries. */
export interface DeadLetter<E extends StoredEvent = StoredEvent> {
  event: E;
  group: string;
  /** Deliveries in all, the first included. */
  deliveries: number;
  lastError: DeliveryError;
  /** When it was dead-lettered (the bus clock, epoch ms). */
  deadAt: number;
}

/** `bus.deadLetters(group)`: the group's dead-letter list. */
export interface DeadLetters {
  /** Oldest first. */
  list(): Promise<DeadLetter[]>;
  /**
   * Puts dead letters back into the group (all, or those whose `event.id` is in `ids`); they
   * are delivered again with a fresh delivery count. Resolves with how many were put back.
   */
  redrive(ids?: readonly string[]): Promise<number>;
}

/** What a failed delivery records of its error: name and message, capped (`capDeliveryError`). */
export function deliveryError(error: unknown): DeliveryError {
  if (error instanceof Error)
    return capDeliveryError({ name: String(error.name), message: String(error.message) });
  return capDeliveryError({ name: 'Error', message: typeof error === 'string' ? error : describe(error) });
}

/**
 * The error as a dead letter stores it: the message at most `maxErrorMessageLength` UTF-16
 * units, the name at most `maxErrorNameLength`; a longer one is cut and ends in
 * `… [truncated, N characters]`. Backends apply it too, whoever calls them.
 */
export function capDeliveryError(error: DeliveryError): DeliveryError {
  const { maxErrorMessageLength, maxErrorNameLength } = CONSUMER_GROUP_LIMITS;
  const name = cap(error.name, maxErrorNameLength);
  const message = cap(error.message, maxErrorMessageLength);
  return name === error.name && message === error.message ? error : { name, message };
}

function cap(text: string, max: number): string {
  if (text.length <= max) return text;
  const marker = `… [truncated, ${text.length} characters]`;
  let end = Math.max(0, max - marker.length);
  // Never cut a surrogate pair in two (a lone half is not valid UTF-8 for a store to keep).
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return text.slice(0, end) + marker;
}

export function checkRedriveIds(ids: unknown): readonly string[] | undefined {
  if (ids === undefined) return undefined;
  if (!Array.isArray(ids) || !ids.every((id) => typeof id === 'string')) {
    throw new InvalidOptionError(`Expected \`ids\` to be an array of event ids, got ${describe(ids)}`);
  }
  return ids;
}

/**
 * A group's dead letters by event id, oldest first, at most `limit`: past it the oldest is
 * discarded, so a handler that fails on everything cannot grow memory without bound.
 */
export class DeadLetterList {
  readonly #byId = new Map<string, DeadLetter>();
  readonly #limit: number;
  discarded = 0;

  constructor(limit: number) {
    this.#limit = limit;
  }

  get size(): number {
    return this.#byId.size;
  }

  add(letter: DeadLetter): void {
    this.#byId.delete(letter.event.id);
    this.#byId.set(letter.event.id, letter);
    if (this.#byId.size > this.#limit) {
      this.#byId.delete(this.#byId.keys().next().value as string);
      this.discarded++;
    }
  }

  list(): DeadLetter[] {
    return [...this.#byId.values()].map((letter) => ({ ...letter, lastError: { ...letter.lastError } }));
  }

  /** Removes and returns the letters to redrive: all, or those with these event ids. */
  take(ids: readonly string[] | undefined): DeadLetter[] {
    const taken: DeadLetter[] = [];
    for (const id of ids ?? [...this.#byId.keys()]) {
      const letter = this.#byId.get(id);
      if (letter === undefined) continue;
      this.#byId.delete(id);
      taken.push(letter);
    }
    return taken;
  }
}
