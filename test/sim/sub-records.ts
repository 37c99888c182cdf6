import type { StoredEvent } from './lib.js';
import type { BusRecord, HandlerCall, SubRecord, SubStart } from './model.js';
import { ledgerOf, type World } from './world.js';

/** What a subscription did, as the model keeps it: made, given events, called, ended. */

/** A subscription filter (role checks and the like): drops events whose number is a multiple of 3. */
export function skipEveryThird(event: StoredEvent): boolean {
  return (event.data as { n: number }).n % 3 !== 0;
}

export function newSub(
  world: World,
  record: BusRecord,
  key: string,
  kind: SubRecord['kind'],
  behavior: string,
  pattern: string,
  stream: string | undefined,
  start: SubStart,
): SubRecord {
  const sub: SubRecord = {
    key,
    bus: record.index,
    kind,
    behavior,
    overflow: undefined,
    calls: [],
    patterns: [pattern],
    stream,
    filter: undefined,
    start,
    registeredOrdinal: world.sched.tick(),
    registeredAt: world.sched.now,
    trimmedAtStart: ledgerOf(world, record.index).trimmedHigh,
    delivered: [],
    truncations: [],
    endedOrdinal: undefined,
    endedAt: undefined,
    endReason: undefined,
    healthy: true,
    onTruncated: undefined,
    bufferSize: 0,
    concurrency: 1,
    maxPending: 0,
    subscription: undefined,
    reading: false,
  };
  world.model.subs.push(sub);
  return sub;
}

export function deliver(world: World, sub: SubRecord, event: StoredEvent): void {
  sub.delivered.push({
    cursor: event.cursor,
    id: event.id,
    type: event.type,
    stream: event.stream,
    ordinal: world.sched.tick(),
  });
  world.sched.log(`${sub.key} got ${event.id}@${event.cursor} ${event.type}/${event.stream}`);
}

export function end(world: World, sub: SubRecord, reason: string): void {
  if (sub.endedOrdinal !== undefined) return;
  sub.endedOrdinal = world.sched.tick();
  sub.endedAt = world.sched.now;
  sub.endReason = reason;
  world.sched.log(`${sub.key} ended: ${reason}`);
}

/** Records a handler call as it starts; a subscription removed by the user gets none. */
export function startCall(world: World, sub: SubRecord, event: StoredEvent): HandlerCall {
  if (sub.endReason === 'unsubscribed' || sub.endReason === 'aborted')
    world.model.violate(
      'no-call-after-off',
      `${sub.key}: its handler was called with ${event.id} at t=${world.sched.now}, after it was ${sub.endReason}`,
    );
  deliver(world, sub, event);
  const call: HandlerCall = {
    id: event.id,
    cursor: event.cursor,
    startAt: world.sched.now,
    endAt: undefined,
  };
  sub.calls.push(call);
  return call;
}
