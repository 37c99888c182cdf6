// Scenario 5: subscribe/unsubscribe churn with 10,000 patterns present. Per cycle: one
// `bus.on(pattern, h)`, its unsubscribe, then one publish of the matched type (every cycle),
// awaited in batches. Target ≥ 1,000,000 cycles/s, literal and wildcard patterns both.

import { measure } from '../harness.mjs';
import { mixedPatterns, SCALE_TYPE } from '../patterns.mjs';
import { wildcardEmitter2 } from '../peers.mjs';
import { formatProfile, profileLoop } from '../profile.mjs';
import { formatNs, row, target } from '../report.mjs';
import { BATCH } from './shared.mjs';

const DATA = { orderId: 7 };
const LITERAL = SCALE_TYPE; // 'orders.eu.created': matches the published type
const WILDCARD = 'orders.*.created'; // also in the base set, so its trie node never empties
const CACHED_TYPES = 1000;

/** on + off + publish per cycle; publishes awaited every BATCH cycles. */
const churnWithPublish = async (ctx, n) => {
  const { bus, pattern, handler, event, ps } = ctx;
  for (let i = 0; i < n; i += ps.length) {
    for (let j = 0; j < ps.length; j++) {
      const off = bus.on(pattern, handler);
      off();
      ps[j] = bus.publish(event);
    }
    await Promise.all(ps);
  }
};

/** on + off only, for the breakdown. */
const churnOnly = (ctx, n) => {
  const { bus, pattern, handler } = ctx;
  for (let i = 0; i < n; i++) {
    const off = bus.on(pattern, handler);
    off();
  }
};

export async function run({ busline }) {
  const { EventBus } = busline;
  const base = mixedPatterns(10000);
  const busWith = (pattern, { cachedTypes = 0 } = {}) => {
    const bus = new EventBus({ store: null, dedup: false });
    const ctx = { bus, pattern, event: { type: SCALE_TYPE, data: DATA }, ps: new Array(BATCH), count: 0 };
    ctx.handler = () => {
      ctx.count++;
    };
    for (const p of base) bus.on(p, () => {});
    // Fill the match cache with other types, as a long-running bus publishing many types would.
    for (let i = 0; i < cachedTypes; i++) void bus.publish({ type: `orders.eu.t${i}`, data: DATA });
    void bus.publish(ctx.event);
    return ctx;
  };
  const churnContender = (name, pattern, loop, options) => ({
    name,
    setup: () => busWith(pattern, options),
    loop,
    step: loop === churnWithPublish ? BATCH : 1,
  });
  const rows = await measure([
    churnContender('busline literal: on + off + publish', LITERAL, churnWithPublish),
    churnContender('busline wildcard: on + off + publish', WILDCARD, churnWithPublish),
    churnContender('busline literal: on + off only', LITERAL, churnOnly),
    churnContender('busline wildcard: on + off only', WILDCARD, churnOnly),
    churnContender(
      `busline wildcard, ${CACHED_TYPES.toLocaleString('en-US')} cached types: on + off + publish`,
      WILDCARD,
      churnWithPublish,
      { cachedTypes: CACHED_TYPES },
    ),
    {
      name: 'busline publish only (same bus)',
      setup: () => busWith(LITERAL),
      loop: async (ctx, n) => {
        const { bus, event, ps } = ctx;
        for (let i = 0; i < n; i += ps.length) {
          for (let j = 0; j < ps.length; j++) ps[j] = bus.publish(event);
          await Promise.all(ps);
        }
      },
      step: BATCH,
    },
    ...[
      ['eventemitter2 literal: on + off + emit', LITERAL],
      ['eventemitter2 wildcard: on + off + emit', WILDCARD],
    ].map(([name, pattern]) => ({
      name,
      setup() {
        const ctx = { ee: wildcardEmitter2(), pattern, type: SCALE_TYPE, data: DATA, count: 0 };
        ctx.handler = () => {
          ctx.count++;
        };
        for (const p of base) ctx.ee.on(p, () => {});
        return ctx;
      },
      loop: (ctx, n) => {
        const { ee, pattern, handler, type, data } = ctx;
        for (let i = 0; i < n; i++) {
          ee.on(pattern, handler);
          ee.off(pattern, handler);
          ee.emit(type, data);
        }
      },
    })),
  ]);
  const lit = row(rows, 'busline literal: on + off + publish');
  const wild = row(rows, 'busline wildcard: on + off + publish');
  const litOnly = row(rows, 'busline literal: on + off only');
  const wildOnly = row(rows, 'busline wildcard: on + off only');
  const pub = row(rows, 'busline publish only (same bus)');
  const profiles = {};
  for (const [key, pattern] of [
    ['literal', LITERAL],
    ['wildcard', WILDCARD],
  ]) {
    profiles[key] = formatProfile(
      await profileLoop(
        { name: `churn ${key}`, setup: () => busWith(pattern), loop: churnOnly },
        { n: 1000 },
      ),
    );
  }
  const diagnose = (cycle, only, key) =>
    `a cycle costs ${formatNs(cycle.nsPerOp)}: the on + off pair alone ${formatNs(only.nsPerOp)}, a publish alone ${formatNs(pub.nsPerOp)} ` +
    `(broken down under "One exact-type subscriber"); the 1 µs budget is ${cycle.nsPerOp > 1000 ? 'exceeded' : 'met'} by their sum. ` +
    `CPU profile of the on + off loop, self time: ${profiles[key]}.`;
  return {
    title: 'Subscribe/unsubscribe churn (10,000 patterns present)',
    summary: `per cycle: off = bus.on(pattern, h); off(); bus.publish("${SCALE_TYPE}") — a publish every cycle, awaited every ${BATCH} cycles.`,
    description: [
      'The bus holds the 10,000 mixed patterns of the previous scenario. One cycle subscribes a handler,',
      `unsubscribes it, then publishes one \`${SCALE_TYPE}\` event (every cycle; the publish promises are`,
      `awaited with \`Promise.all\` every ${BATCH} cycles). The literal pattern is \`${LITERAL}\`, the wildcard`,
      `\`${WILDCARD}\`; both match the published type, so each cycle also patches its cached match entry.`,
      'Rows marked "only" split a cycle into its parts. The row with',
      `${CACHED_TYPES.toLocaleString('en-US')} cached types first publishes that many other types, so the wildcard has`,
      'a full match cache to patch (a wildcard subscribe/unsubscribe visits every cached type); it has no target.',
      'eventemitter2 does the same cycle with `on`, `off`, `emit` for contrast.',
    ].join(' '),
    tables: [{ rows, baseline: lit.name, ratioLabel: 'busline literal ÷ this', unit: 'cycles/s' }],
    targets: [
      target(
        'literal pattern churn ≥ 1,000,000 cycles/s',
        lit.best,
        '>=',
        1e6,
        diagnose(lit, litOnly, 'literal'),
        ' cycles/s',
      ),
      target(
        'wildcard pattern churn ≥ 1,000,000 cycles/s',
        wild.best,
        '>=',
        1e6,
        diagnose(wild, wildOnly, 'wildcard'),
        ' cycles/s',
      ),
    ],
  };
}
