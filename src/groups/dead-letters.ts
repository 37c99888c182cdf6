import { InvalidOptionError } from '../errors.js';
import { describe, type StoredEvent } from '../event.js';

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

export function deliveryError(error: unknown): DeliveryError {
  if (error instanceof Error) return { name: error.name, message: error.message };
  return { name: 'Error', message: typeof error === 'string' ? error : describe(error) };
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
