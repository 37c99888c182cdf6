/**
 * A handler worth testing: when a job fails three times within a minute, publish an
 * escalation. It keeps state and depends on time, the two things tests usually get wrong.
 */
import type { EventBus } from 'busline';

export type JobEvents = {
  'job.failed': { job: string; reason: string };
  'job.escalated': { job: string; failures: number };
};

export const ESCALATE_AFTER = 3;
export const WINDOW_MS = 60_000;

/** Wires the rule onto a bus; returns the unsubscribe function. */
export function escalateRepeatedFailures(bus: EventBus<JobEvents>): () => void {
  const failures = new Map<string, number[]>();
  return bus.on('job.failed', async (event) => {
    const recent = (failures.get(event.data.job) ?? []).filter((time) => event.time - time < WINDOW_MS);
    recent.push(event.time);
    failures.set(event.data.job, recent);
    if (recent.length === ESCALATE_AFTER) {
      await bus.publish({ type: 'job.escalated', data: { job: event.data.job, failures: recent.length } });
    }
  });
}
