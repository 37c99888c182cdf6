import { InvalidEventError } from '../errors.js';
import { type BusEvent, envelopeProblem } from '../event.js';
import { readEventInput } from '../event-input.js';
import { eventTypeProblem } from '../pattern/event-type.js';

/**
 * A store's append for the bus's own events (optional, internal): they are copies the bus read
 * once and validated when it stamped them, so the store need not run `checkAppendInput` again
 * (about 150 ns per event on the Redis store's path). The store still measures what it writes.
 * @internal
 */
export const appendValidated: unique symbol = Symbol('busline.appendValidated');

/**
 * Validates what `EventStore.append` received, before anything is written: stores get
 * events from any caller, not only the bus. Exported for adapter authors, so every store
 * rejects the same input with the same typed error.
 *
 * Returns the events as plain copies, each field read once (see `readEventInput`): write
 * those, not the caller's objects, so what is stored is what was checked.
 * @throws InvalidEventError naming the index of the first bad event
 */
export function checkAppendInput(events: readonly BusEvent[]): BusEvent[] {
  if (!Array.isArray(events)) throw new InvalidEventError('Expected append to receive an array of events');
  const copies: BusEvent[] = new Array(events.length);
  for (let i = 0; i < copies.length; i++) {
    const event = readEventInput(events[i], i);
    const problem =
      envelopeProblem(event) ??
      eventTypeProblem(event.type) ??
      (typeof event.id !== 'string' ? 'expected "id" to be set' : undefined) ??
      (typeof event.stream !== 'string' ? 'expected "stream" to be set' : undefined) ??
      (typeof event.time !== 'number' ? 'expected "time" to be set' : undefined);
    if (problem !== undefined) throw new InvalidEventError(problem, { index: i });
    copies[i] = event as BusEvent;
  }
  return copies;
}
