// Scenarios 2 and 3: one wildcard subscriber (`job.*`, `a.**.z`, `job.**`). Two questions per
// pattern: is a whole busline publish at least as fast as eventemitter2's wildcard emit, and is the
// match step alone (busline's trie, with and without its cache) at least as fast as qlobber's?

import { measure } from '../harness.mjs';
import { busQlobber, wildcardEmitter2 } from '../peers.mjs';
import { formatProfile, profileLoop } from '../profile.mjs';
import { row, target } from '../report.mjs';
import { BATCH, batchedPublish, delivered, publishDiagnosis } from './shared.mjs';

const DATA = { jobId: 42, name: 'render', attempts: 1 };

const CASES = [
  { title: 'One `job.*` subscriber', pattern: 'job.*', type: 'job.created' },
  { title: '`**` in the middle: `a.**.z`', pattern: 'a.**.z', type: 'a.b.c.z' },
  { title: 'Trailing `**`: `job.**`', pattern: 'job.**', type: 'job.created' },
];

export const LOOKUP = 'busline SubscriptionIndex.lookup (cached)';
export const RAW = 'busline PatternTrie.matchType(type) (no cache)';
export const QLOBBER = 'qlobber match (cache_splits)';

export async function run({ busline, internals, findings }) {
  const sections = [];
  for (const c of CASES) sections.push(await runCase(c, busline, internals, findings));
  return sections;
}

/** The three match-step contenders for `patterns` (one member each) and `type`. */
export function matchContenders(internals, patterns, type, suffix = '') {
  const { SubscriptionIndex, PatternTrie, parsePattern } = internals;
  const members = patterns.map((p, i) => ({ seq: i + 1, matchStamp: 0, patterns: [parsePattern(p)] }));
  return [
    {
      name: LOOKUP + suffix,
      setup() {
        const index = new SubscriptionIndex();
        for (const m of members) index.add(m);
        return { index, type, found: 0 };
      },
      loop: (ctx, n) => {
        const { index, type } = ctx;
        let found = 0;
        for (let i = 0; i < n; i++) found += index.lookup(type).members.length;
        ctx.found = found / n;
      },
      check: (ctx) => (ctx.found === 1 ? undefined : `${ctx.found} members matched, expected 1`),
    },
    {
      name: RAW + suffix,
      setup() {
        const trie = new PatternTrie();
        for (const m of members) trie.add(m.patterns[0], m);
        return { trie, type, found: 0 };
      },
      loop: (ctx, n) => {
        const { trie, type } = ctx;
        let found = 0;
        for (let i = 0; i < n; i++) found += trie.matchType(type).length;
        ctx.found = found / n;
      },
      check: (ctx) => (ctx.found === 1 ? undefined : `${ctx.found} members matched, expected 1`),
    },
    {
      name: QLOBBER + suffix,
      setup() {
        const q = busQlobber();
        patterns.forEach((p, i) => {
          q.add(p, i);
        });
        return { q, type, found: 0 };
      },
      loop: (ctx, n) => {
        const { q, type } = ctx;
        let found = 0;
        for (let i = 0; i < n; i++) found += q.match(type).length;
        ctx.found = found / n;
      },
      check: (ctx) => (ctx.found === 1 ? undefined : `${ctx.found} values matched, expected 1`),
    },
  ];
}

async function runCase({ title, pattern, type }, busline, internals, findings) {
  const { EventBus } = busline;
  const publishRows = await measure([
    {
      name: 'busline publish',
      setup() {
        const bus = new EventBus({ store: null, dedup: false });
        const ctx = { bus, event: { type, data: DATA }, ps: new Array(BATCH), count: 0 };
        bus.on(pattern, () => {
          ctx.count++;
        });
        return ctx;
      },
      loop: batchedPublish,
      step: BATCH,
      check: delivered,
    },
    {
      name: 'eventemitter2 emit (wildcard)',
      setup() {
        const ctx = { ee: wildcardEmitter2(), type, data: DATA, count: 0 };
        ctx.ee.on(pattern, () => {
          ctx.count++;
        });
        return ctx;
      },
      loop: (ctx, n) => {
        const { ee, type, data } = ctx;
        for (let i = 0; i < n; i++) ee.emit(type, data);
      },
      check: delivered,
    },
  ]);
  const matchRows = await measure([...matchContenders(internals, [pattern], type)]);

  const rawProfile = formatProfile(await profileLoop(matchContenders(internals, [pattern], type)[1]));
  const bus = row(publishRows, 'busline publish');
  const ee2 = row(publishRows, 'eventemitter2 emit (wildcard)');
  const lookup = row(matchRows, LOOKUP);
  const raw = row(matchRows, RAW);
  const qlobber = row(matchRows, QLOBBER);
  return {
    title,
    summary: `pattern "${pattern}", publish "${type}"; busline awaits Promise.all every ${BATCH} publishes.`,
    description: [
      `One subscriber on \`${pattern}\`, one event type \`${type}\` published. busline: pure mode,`,
      `${BATCH} \`publish\` calls then one \`await Promise.all\`, repeated. eventemitter2: \`{ wildcard: true, delimiter: '.' }\`,`,
      'synchronous `emit`. The match step is timed alone on busline internals bundled from src/:',
      '(a) `SubscriptionIndex.lookup(type)`, the path publish takes (a Map hit once the type was seen),',
      '(b) the raw `PatternTrie.matchType(type)`, no cache (it walks the type in place, no split array); against qlobber',
      "`{ separator: '.', wildcard_one: '*', wildcard_some: '**', cache_splits: true }` `match(type)`.",
    ].join(' '),
    tables: [
      { caption: 'Publish:', rows: publishRows, baseline: 'busline publish', ratioLabel: 'busline ÷ this' },
      {
        caption: 'Match step alone (speed relative to qlobber; above 1 = faster than qlobber):',
        rows: matchRows,
        baseline: QLOBBER,
        ratioLabel: 'this ÷ qlobber',
        speedVsBaseline: true,
      },
    ],
    targets: [
      target(
        'busline publish ≥ 1× eventemitter2 emit',
        bus.best / ee2.best,
        '>=',
        1,
        publishDiagnosis(findings, {
          publishNs: bus.nsPerOp,
          peer: 'eventemitter2',
          peerNs: ee2.nsPerOp,
          matchNs: lookup.nsPerOp,
        }),
      ),
      target(
        'match step (a) SubscriptionIndex.lookup ≥ 1× qlobber match',
        lookup.best / qlobber.best,
        '>=',
        1,
        `lookup costs ${lookup.nsPerOp.toFixed(1)} ns against qlobber's ${qlobber.nsPerOp.toFixed(1)} ns.`,
      ),
      target(
        'match step (b) raw PatternTrie.matchType ≥ 1× qlobber match',
        raw.best / qlobber.best,
        '>=',
        1,
        `the raw match costs ${raw.nsPerOp.toFixed(0)} ns against qlobber's ${qlobber.nsPerOp.toFixed(0)} ns ` +
          `(qlobber looks its cached split up in a Map, then walks). CPU profile of the raw match loop, self time: ${rawProfile}.`,
      ),
    ],
  };
}
