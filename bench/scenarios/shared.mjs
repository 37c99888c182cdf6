// Loops and constants several scenarios share. The loops are plain functions with no free
// variables: the harness recompiles one copy per contender, so sharing the source is safe.

/** Publishes are awaited in batches: this many `publish` calls, then one `await Promise.all`. */
export const BATCH = 1000;

/** `ctx.bus.publish(ctx.event)` BATCH times, then awaits them all; `n` is a multiple of BATCH. */
export const batchedPublish = async (ctx, n) => {
  const { bus, event, ps } = ctx;
  for (let i = 0; i < n; i += ps.length) {
    for (let j = 0; j < ps.length; j++) ps[j] = bus.publish(event);
    await Promise.all(ps);
  }
};

export const delivered = (ctx) => (ctx.count > 0 ? undefined : 'the handler never ran');

/**
 * Why a busline publish is slower than a peer's emit, from numbers measured in this run: the
 * per-event pieces timed by the exact-type scenario, plus this scenario's match cost.
 */
export function publishDiagnosis(findings, { publishNs, peer, peerNs, matchNs }) {
  const b = findings.breakdown;
  const head = `a busline publish costs ${publishNs.toFixed(0)} ns here against ${peerNs.toFixed(0)} ns for ${peer}`;
  const match =
    matchNs === undefined
      ? ''
      : `; the pattern match itself is only ${matchNs.toFixed(0)} ns of it (cached lookup, timed above)`;
  if (!b) return `${head}${match}.`;
  const pieces = Object.entries(b)
    .filter(([name]) => !name.startsWith('publish') && !name.includes('(inside'))
    .sort((x, y) => y[1] - x[1])
    .map(([name, ns]) => `${name.split(':')[0]} ${ns.toFixed(0)} ns`);
  const inside = Object.entries(b).find(([name]) => name.includes('(inside'));
  const size = Object.entries(b).find(([name]) => name.startsWith('size'));
  return (
    `${head}${match}. The rest is fixed per-event work, timed piece by piece in "One exact-type subscriber": ` +
    `${pieces.join(', ')}` +
    (inside && size
      ? ` (of the size check's ${size[1].toFixed(0)} ns, String(event.time) alone takes ${inside[1].toFixed(0)} ns)`
      : '') +
    `; together ${findings.piecesSumNs.toFixed(0)} of ${findings.publishNs.toFixed(0)} ns, the remainder is in no single piece.` +
    (findings.publishProfile ? ` CPU profile of a publish loop, self time: ${findings.publishProfile}.` : '')
  );
}
