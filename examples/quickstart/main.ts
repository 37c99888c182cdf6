/**
 * busline quickstart: a typed bus, wildcard subscribers, an async iterator, and replay for a
 * late joiner. Run it with `npm run demo`.
 */
import { EventBus, HistoryTruncated, InvalidPatternError } from 'busline';

// 1. Describe your events once: type → data. Publish and handlers are checked against it.
type Events = {
  'task.created': { id: string; title: string };
  'task.done': { id: string };
  'job.build.failed': { job: string; reason: string };
  'job.deploy.failed': { job: string; reason: string };
};

// The default store keeps recent history in memory (1,000 events per stream), for replay.
const bus = new EventBus<Events>();

const line = (who: string, text: string) => console.log(`  ${who.padEnd(16)} ${text}`);

console.log('\n1) Wildcard subscribers');
// `*` matches exactly one segment…
bus.on('task.*', (event) => line('[task.*]', `${event.type} ${JSON.stringify(event.data)}`));
// …`**` matches zero or more, anywhere in the pattern.
bus.on('**.failed', (event) => line('[**.failed]', `${event.data.job} failed: ${event.data.reason}`));
// A filter narrows further (roles, tenants, ids…).
bus.on('**', (event) => line('[** admin only]', event.type), { filter: (e) => e.meta?.role === 'admin' });

await bus.publish({ type: 'task.created', data: { id: 't1', title: 'Write the docs' } });
await bus.publish({ type: 'job.build.failed', data: { job: 'build#42', reason: 'tests red' } });
const result = await bus.publish({ type: 'task.done', data: { id: 't1' }, meta: { role: 'admin' } });
line('publish result', JSON.stringify(result));

console.log('\n2) An async iterator with a bounded buffer');
const failures = bus.subscribe('job.**', { bufferSize: 2, overflow: 'drop-oldest' });
for (const job of ['lint#1', 'test#2', 'deploy#3']) {
  await bus.publish({ type: 'job.deploy.failed', data: { job, reason: 'timeout' } });
}
failures.close(); // no new events; the buffered ones are still yielded
for await (const event of failures) line('[iterator]', `${event.data.job} (${event.type})`);
line('iterator stats', JSON.stringify(failures.stats()));
line('', 'the buffer holds 2, so the oldest of 3 was dropped and counted');

console.log('\n3) A late joiner replays from a cursor, then continues live');
const checkpoint = await bus.publish({ type: 'task.created', data: { id: 't2', title: 'Review the PR' } });
await bus.publish({ type: 'task.created', data: { id: 't3', title: 'Cut a release' } });
const lastBeforeJoin = await bus.publish({ type: 'task.done', data: { id: 't2' } });
// A client that saw everything up to `checkpoint` reconnects: it gets what it missed, then live events.
const lateJoiner = bus.subscribe('task.*', { from: { after: checkpoint.cursor! } });
const caughtUp = (async () => {
  for await (const item of lateJoiner) {
    if (item instanceof HistoryTruncated) continue; // history was lost (not here): the item says so
    const how = item.cursor <= lastBeforeJoin.cursor! ? 'replayed' : 'live';
    line('[late joiner]', `${item.type} ${item.data.id} (${how})`);
    if (item.data.id === 't4') break; // the live one: stop here
  }
})();
await bus.publish({ type: 'task.created', data: { id: 't4', title: 'Published after the join' } });
await caughtUp;

console.log('\n4) Bad input gets a typed error');
try {
  bus.on('task*', () => {});
} catch (error) {
  if (error instanceof InvalidPatternError) line(error.code, error.message);
}

await bus.close();
const { published, delivered, dropped } = bus.stats();
console.log(`\nDone: ${published} events published, ${delivered} deliveries, ${dropped} dropped.\n`);
