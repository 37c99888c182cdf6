import type { EventInput, StoredEvent } from '../event.js';
import type { Admission, PublishGate } from './publish-gate.js';

// How `publishBatch` takes its events through the gate: in order, a repeated given id inside
// the batch counting as a duplicate, and (without a store) every given id held first.
// `inputs` are the bus's read-once copies of the caller's events (their ids as given, or
// undefined where the bus generated one); `events` are the stamped events, index for index.

/**
 * Runs the gate over a batch in order; a repeated id inside the batch is a duplicate. Only
 * ids the caller gave are tracked for that: generated ids are unique by construction (and
 * should a given id equal one generated in the same batch, the store's append, or the
 * gate's recent ids without a store, still finds the pair).
 */
export function admitBatch(
  gate: PublishGate,
  inputs: readonly EventInput[],
  events: StoredEvent[],
  now: number | undefined,
  signal: AbortSignal | undefined,
  held: string[],
): Admission[] | Promise<Admission[]> {
  const batchIds = new Set<string>();
  const verdicts: Admission[] = [];
  for (let i = 0; i < events.length; i++) {
    const event = events[i]!;
    const generated = inputs[i]!.id === undefined;
    const admission = gate.admit(event, generated ? undefined : batchIds, now, generated, signal, held);
    if (admission instanceof Promise)
      return admitRestOfBatch(gate, inputs, events, i, admission, batchIds, verdicts, signal, held);
    verdicts.push(admission);
  }
  return verdicts;
}

/** Holds every given id of a batch for `held` in id order; a promise only if one must be waited for. */
export function holdBatchIds(
  gate: PublishGate,
  inputs: readonly EventInput[],
  held: string[],
  signal: AbortSignal | undefined,
): Promise<void> | undefined {
  const ids = [...new Set(inputs.map((input) => input.id).filter((id) => typeof id === 'string'))].sort();
  const holdFrom = (from: number): Promise<void> | undefined => {
    for (let i = from; i < ids.length; i++) {
      const waiting = gate.hold(ids[i]!, held, signal);
      if (waiting !== undefined)
        return waiting.then(() => {
          held.push(ids[i]!);
          return holdFrom(i + 1);
        });
      held.push(ids[i]!);
    }
    return undefined;
  };
  return holdFrom(0);
}

/** The rest of a batch once one admission waits (each id whose admission waits is held, see publish). */
async function admitRestOfBatch(
  gate: PublishGate,
  inputs: readonly EventInput[],
  events: StoredEvent[],
  from: number,
  waiting: Promise<Admission>,
  batchIds: Set<string>,
  verdicts: Admission[],
  signal: AbortSignal | undefined,
  held: string[],
): Promise<Admission[]> {
  if (inputs[from]!.id !== undefined && !held.includes(events[from]!.id)) held.push(events[from]!.id);
  verdicts.push(await waiting);
  for (let i = from + 1; i < events.length; i++) {
    const event = events[i]!;
    const generated = inputs[i]!.id === undefined;
    // Time has passed: the gate's components read their clocks.
    const admission = gate.admit(event, generated ? undefined : batchIds, undefined, generated, signal, held);
    if (admission instanceof Promise) {
      if (!generated && !held.includes(event.id)) held.push(event.id);
      verdicts.push(await admission);
    } else verdicts.push(admission);
  }
  return verdicts;
}
