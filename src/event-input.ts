import { InvalidEventError } from './errors.js';
import { type EventInput, envelopeProblem } from './event.js';

/**
 * The caller's envelope, each field read exactly once (a getter or a Proxy trap answers once)
 * into a plain object that the bus validates and builds the event from. Reading a field again
 * after validating it could see another value, a getter that changes or a field set meanwhile,
 * and store what was never checked: a type with control characters and wildcards did reach
 * the default store that way. `meta` is copied for the same reason (its values are read once);
 * `data` stays the caller's object, as it is delivered.
 * Costs a small object per event: within noise of the publish loop (bench/ab.mjs).
 * @param index the event's position in a batch, for the error message
 * @throws InvalidEventError when `input` is not an object
 */
export function readEventInput(input: unknown, index: number | undefined): EventInput {
  if (input === null || typeof input !== 'object')
    throw new InvalidEventError(envelopeProblem(input)!, { index });
  const { id, type, stream, time, data, meta } = input as EventInput;
  // A non-object meta stays as it is, for the envelope check to name.
  const ownMeta = meta !== null && typeof meta === 'object' && !Array.isArray(meta) ? { ...meta } : meta;
  return { id, type, stream, time, data, meta: ownMeta };
}
