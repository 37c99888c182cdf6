import type { StoredEvent } from './lib.js';
import type { SubRecord } from './model.js';
import { matchesAny } from './patterns.js';

/** What the model knows of an event: enough to decide who should get it. */
export interface EventFacts {
  id: string;
  type: string;
  stream: string;
}

/**
 * A subscription's selection, from the model's side: patterns, stream and filter. The filter
 * (the sim's own, on the event's number) is run on the facts, so events known only by a
 * delivery or a publish can be judged too.
 */
export function selects(sub: Pick<SubRecord, 'patterns' | 'stream' | 'filter'>, event: EventFacts): boolean {
  return (
    matchesAny(sub.patterns, event.type) &&
    (sub.stream === undefined || event.stream === sub.stream) &&
    (sub.filter === undefined || sub.filter(asEvent(event)))
  );
}

function asEvent(event: EventFacts): StoredEvent {
  const n = Number(event.id.slice(1));
  return { ...event, time: 0, cursor: event.id, data: { n } } as StoredEvent;
}
