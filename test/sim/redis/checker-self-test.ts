import { checkRun, type FinalState } from './redis-check.js';
import { RunModel, type SubRecord } from './redis-model.js';

/**
 * The checker checked: a clean run's record, broken on purpose in one way at a time (a lost
 * delivery, a repeated one, two swapped, a phantom, a lost acknowledgement…), must make the
 * checker report the matching invariant. A checker that passes everything would otherwise
 * look exactly like a library that breaks nothing.
 */

interface Mutation {
  name: string;
  /** Any of these reported means the checker caught it. */
  expect: string[];
  /** Breaks the copy; false when the run has nothing to break this way. */
  apply(model: RunModel, final: FinalState): boolean;
}

const MUTATIONS: Mutation[] = [
  {
    name: 'an owed delivery goes missing',
    expect: ['live-no-gap', 'resume-no-gap'],
    apply(_model, final) {
      const sub = [...final.checkpoint].find(
        (s) =>
          s.delivered.length > 0 &&
          (s.start !== 'now' ||
            (s.fence !== undefined && (s.fence === null || s.delivered.at(-1)!.cursor > s.fence))),
      );
      if (sub === undefined) return false;
      sub.delivered.pop();
      return true;
    },
  },
  {
    name: 'an event is delivered twice',
    expect: ['no-duplicate-delivery'],
    apply(model) {
      const sub = model.subs.find((s) => s.delivered.length > 0);
      if (sub === undefined) return false;
      sub.delivered.push({ ...sub.delivered[0]! });
      return true;
    },
  },
  {
    name: 'two events of one stream arrive swapped',
    expect: ['stream-order'],
    apply(model) {
      for (const sub of model.subs) {
        const d = sub.delivered;
        for (let i = 0; i < d.length; i++)
          for (let j = i + 1; j < d.length; j++)
            if (d[i]!.stream === d[j]!.stream) {
              [d[i], d[j]] = [d[j]!, d[i]!];
              return true;
            }
      }
      return false;
    },
  },
  {
    name: 'a delivered event the store never held',
    expect: ['no-phantom-delivery'],
    apply(model) {
      const sub = model.subs.find((s) => s.delivered.length > 0);
      if (sub === undefined) return false;
      sub.delivered.push({ ...sub.delivered.at(-1)!, cursor: 'ffffffffff-999999999999999-9999999999' });
      return true;
    },
  },
  {
    name: "an event acknowledged 'delivered' is not in the log",
    expect: ['publish-ack-stored'],
    apply(model, final) {
      const acked = model.publishes.flatMap((p) => p.results ?? []).find((r) => r.status === 'delivered');
      if (acked === undefined) return false;
      final.log = final.log.filter((e) => e.cursor !== acked.cursor);
      return true;
    },
  },
  {
    name: "a 'duplicate' without the original's cursor",
    expect: ['duplicate-carries-cursor'],
    apply(model) {
      const dup = model.publishes.flatMap((p) => p.results ?? []).find((r) => r.status === 'duplicate');
      if (dup === undefined) return false;
      dup.cursor = undefined;
      return true;
    },
  },
  {
    name: "a re-publish of a stored id answered 'delivered'",
    expect: ['delivered-once-per-id'],
    apply(model) {
      const dup = model.publishes.flatMap((p) => p.results ?? []).find((r) => r.status === 'duplicate');
      if (dup === undefined) return false;
      dup.status = 'delivered';
      return true;
    },
  },
  {
    name: 'one id stored twice',
    expect: ['id-stored-once'],
    apply(_model, final) {
      const last = final.log.at(-1);
      if (last === undefined) return false;
      final.log = [...final.log, { ...last, cursor: `${last.cursor.slice(0, -1)}x` }];
      return true;
    },
  },
  {
    name: 'HISTORY_TRUNCATED with nothing trimmed',
    expect: ['no-spurious-truncation'],
    apply(model, final) {
      const sub = model.subs.find((s) => s.kind === 'iterator');
      if (sub === undefined || final.retention) return false;
      sub.truncations.push({ seq: model.seq, how: 'error', position: undefined });
      return true;
    },
  },
  {
    name: 'a publish that never settled',
    expect: ['publish-settles'],
    apply(model) {
      const wait = model.waits.find((w) => w.invariant === 'publish-settles');
      if (wait === undefined) return false;
      wait.settledAt = undefined;
      return true;
    },
  },
];

/** A copy of what the checker reads, which a mutation may change without touching the original. */
function copy(model: RunModel, final: FinalState): { model: RunModel; final: FinalState } {
  const m = new RunModel();
  const subs = new Map<SubRecord, SubRecord>();
  for (const s of model.subs) {
    const c = { ...s, delivered: [...s.delivered], truncations: [...s.truncations] };
    subs.set(s, c);
    m.subs.push(c);
  }
  m.buses.push(...model.buses);
  m.publishes.push(...model.publishes.map((p) => ({ ...p, results: p.results?.map((r) => ({ ...r })) })));
  m.waits.push(...model.waits.map((w) => ({ ...w })));
  m.kills.push(...model.kills);
  for (const [id, e] of model.attempted) m.attempted.set(id, e);
  m.seq = model.seq;
  return {
    model: m,
    final: {
      ...final,
      log: [...final.log],
      checkpoint: new Set([...final.checkpoint].map((s) => subs.get(s)!)),
    },
  };
}

/** Each mutation applied to a copy of a clean run: the ones the checker did not catch (and the ones not applicable). */
export function checkerSelfTest(model: RunModel, final: FinalState): { missed: string[]; skipped: string[] } {
  const missed: string[] = [];
  const skipped: string[] = [];
  for (const mutation of MUTATIONS) {
    const broken = copy(model, final);
    if (!mutation.apply(broken.model, broken.final)) {
      skipped.push(mutation.name);
      continue;
    }
    checkRun(broken.model, broken.final);
    const got = new Set(broken.model.violations.map((v) => v.invariant));
    if (!mutation.expect.some((i) => got.has(i)))
      missed.push(
        `${mutation.name}: expected ${mutation.expect.join(' or ')}, got ${[...got].join(', ') || 'nothing'}`,
      );
  }
  return { missed, skipped };
}
