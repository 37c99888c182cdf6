/**
 * Cursors are `<epoch>-<ms>-<seq>`: the store's epoch (10 hex digits), then the Redis stream id
 * `ms-seq` of the event in the log, zero-padded to fixed widths so that plain string order is
 * append order (the bus compares cursors with `<`).
 *
 * 15 digits of milliseconds last until the year 33658; 10 digits of sequence allow ten billion
 * events in one millisecond (Redis raises the sequence instead of the time when the clock stalls
 * or steps back, so it is wider than the event rate alone would need).
 */
export const CURSOR_WIDTH = { epoch: 10, ms: 15, seq: 10 } as const;

const CURSOR = /^([0-9a-f]{10})-(\d{15})-(\d{10})$/;
const EPOCH = /^[0-9a-f]{10}$/;
const REDIS_ID = /^(\d+)-(\d+)$/;

/** A Redis stream id `ms-seq`, as Redis writes it (no padding). */
export type RedisId = string;

export interface ParsedCursor {
  epoch: string;
  id: RedisId;
}

/**
 * A fresh epoch id: 10 random hex digits. An epoch needs to differ from the one before it, not to
 * be unguessable, and a candidate goes with every append: Math.random (40 of its bits) costs a
 * fraction of crypto.randomBytes, which measured ~6 µs per call on the project's machine.
 */
export function newEpoch(): string {
  const high = Math.floor(Math.random() * 0x100000); // 20 bits
  const low = Math.floor(Math.random() * 0x100000); // 20 bits
  return (high * 0x100000 + low).toString(16).padStart(CURSOR_WIDTH.epoch, '0');
}

export function isEpoch(value: string): boolean {
  return EPOCH.test(value);
}

const ZEROS = '0'.repeat(Math.max(CURSOR_WIDTH.ms, CURSOR_WIDTH.seq));

/** The cursor of the event with Redis id `id` in epoch `epoch` (runs per event read or appended). */
export function formatCursor(epoch: string, id: RedisId): string {
  // test + indexOf rather than exec: this runs for every event the feed reads, and exec's match
  // array was a measurable part of what the feed allocates.
  if (!REDIS_ID.test(id)) throw new Error(`Expected a Redis stream id "ms-seq", got ${JSON.stringify(id)}`);
  const dash = id.indexOf('-');
  let ms = id.slice(0, dash);
  let seq = id.slice(dash + 1);
  // Redis writes no leading zeros; other sources might.
  if (ms.length > 1 && ms.startsWith('0')) ms = ms.replace(/^0+(?=\d)/, '');
  if (seq.length > 1 && seq.startsWith('0')) seq = seq.replace(/^0+(?=\d)/, '');
  if (ms.length > CURSOR_WIDTH.ms || seq.length > CURSOR_WIDTH.seq) {
    throw new Error(`Redis stream id ${id} does not fit the cursor format`);
  }
  const msPad = ZEROS.slice(0, CURSOR_WIDTH.ms - ms.length);
  const seqPad = ZEROS.slice(0, CURSOR_WIDTH.seq - seq.length);
  return `${epoch}-${msPad}${ms}-${seqPad}${seq}`;
}

/** The epoch and Redis id of a cursor, or `undefined` when it is not a cursor of this format. */
export function parseCursor(cursor: string): ParsedCursor | undefined {
  const match = CURSOR.exec(cursor);
  if (match === null) return undefined;
  return { epoch: match[1]!, id: `${Number(match[2])}-${Number(match[3])}` };
}

/** Compares two Redis stream ids numerically: negative when `a` comes first. */
export function compareIds(a: RedisId, b: RedisId): number {
  const [aMs, aSeq] = splitId(a);
  const [bMs, bSeq] = splitId(b);
  return aMs !== bMs ? aMs - bMs : aSeq - bSeq;
}

/** The later of two ids; an empty string stands for "none". */
export function maxId(a: RedisId | '', b: RedisId | ''): RedisId | '' {
  if (a === '') return b;
  if (b === '') return a;
  return compareIds(a, b) >= 0 ? a : b;
}

function splitId(id: RedisId): [number, number] {
  const dash = id.indexOf('-');
  return [Number(id.slice(0, dash)), Number(id.slice(dash + 1))];
}
