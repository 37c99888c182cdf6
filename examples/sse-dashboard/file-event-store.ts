import { randomBytes } from 'node:crypto';
import {
  closeSync,
  ftruncateSync,
  openSync,
  readFileSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import {
  type AppendResult,
  type BusEvent,
  ClosedError,
  checkAppendInput,
  checkReadQuery,
  type EventStore,
  InvalidOptionError,
  type ReadPage,
  type ReadQuery,
  type StoredEvent,
  type StoreStats,
  StoreUnavailableError,
} from 'busline';

/**
 * A tiny EventStore that survives a process restart: one JSON line per `append` call in a
 * file, all events also held in memory for reads. For the example and small single-process
 * apps only: it has no retention (the file grows) and one process at a time may open a file.
 *
 * - One line per call makes an append atomic on disk too: a process killed mid-write leaves a
 *   torn last line, which the next open drops (that call never resolved, so nothing
 *   acknowledged is lost). The line is written with one write(2) before the call resolves;
 *   the kernel keeps it through a SIGKILL (an fsync would add power-loss safety, not needed here).
 * - Cursors are `<file epoch>-<16-digit sequence>`: they sort as strings, stay valid across
 *   restarts, and a cursor from a deleted and recreated file is recognised (`truncated`).
 * - `<file>.lock` holds the owner's pid; a lock whose process is gone (killed) is taken over.
 */
export class FileEventStore implements EventStore {
  readonly path: string;
  readonly #lockPath: string;
  readonly #epoch: string;
  readonly #fd: number;
  /** Every event in cursor order; the event with sequence n sits at index n - 1. */
  readonly #events: StoredEvent[] = [];
  readonly #cursors = new Map<string, string>();
  readonly #streams = new Map<string, number>();
  #closed = false;

  /** Opens (or creates) the file and loads it. @throws StoreUnavailableError when another live process holds it */
  constructor(options: { path: string }) {
    this.path = options.path;
    this.#lockPath = `${options.path}.lock`;
    lock(this.#lockPath);
    try {
      this.#fd = openSync(this.path, 'a+');
      this.#epoch = this.#load();
    } catch (error) {
      unlinkSync(this.#lockPath);
      throw error;
    }
  }

  async append(input: readonly BusEvent[]): Promise<AppendResult[]> {
    this.#assertOpen();
    // Plain copies, each field read once: what is written is what was checked.
    const events = checkAppendInput(input);
    const results: AppendResult[] = [];
    const added: StoredEvent[] = [];
    const batch = new Map<string, string>();
    for (const { id, type, stream, time, data, meta } of events) {
      const original = this.#cursors.get(id) ?? batch.get(id);
      if (original !== undefined) {
        results.push({ id, cursor: original, duplicate: true });
        continue;
      }
      const cursor = this.#cursor(this.#events.length + added.length + 1);
      added.push(
        meta === undefined
          ? { id, type, stream, time, data, cursor }
          : { id, type, stream, time, data, meta, cursor },
      );
      batch.set(id, cursor);
      results.push({ id, cursor, duplicate: false });
    }
    if (added.length === 0) return results;
    // Disk first: if the write fails, memory is untouched and the call rejects.
    writeSync(this.#fd, `${JSON.stringify(added)}\n`);
    for (const event of added) this.#remember(event);
    return results;
  }

  async read(query: ReadQuery = {}): Promise<ReadPage> {
    this.#assertOpen();
    const q = checkReadQuery(query);
    let truncated = false;
    let afterSeq = q.backward ? this.#events.length + 1 : 0;
    if (q.after !== undefined) {
      const seq = this.#parse(q.after);
      if (seq === -1)
        truncated = !q.backward; // a cursor of an earlier file: its history is gone
      else afterSeq = seq;
    }
    const events: StoredEvent[] = [];
    const step = q.backward ? -1 : 1;
    for (let i = afterSeq - 1 + step; i >= 0 && i < this.#events.length; i += step) {
      const event = this.#events[i]!;
      if (q.stream !== undefined && event.stream !== q.stream) continue;
      if (event.time < q.since || event.time >= q.until) continue;
      if (q.types !== undefined && !q.types.matches(event.type)) continue;
      // One match past a full page proves there is more: only then is `next` set.
      if (events.length === q.limit) return withTruncated({ events, next: events.at(-1)!.cursor }, truncated);
      events.push(event);
    }
    return withTruncated({ events }, truncated);
  }

  async has(id: string): Promise<boolean> {
    this.#assertOpen();
    return this.#cursors.has(id);
  }

  async stats(): Promise<StoreStats> {
    return { events: this.#events.length, streams: this.#streams.size, epoch: this.#epoch, path: this.path };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    closeSync(this.#fd);
    unlinkSync(this.#lockPath);
  }

  /** Reads the file; writes a header with a new epoch when it is empty. Returns the epoch. */
  #load(): string {
    const bytes = readFileSync(this.path);
    // Every append ends with a newline in the same write: bytes after the last one are a torn
    // write of a process that died mid-append (that call never resolved). Cut them off.
    const end = bytes.lastIndexOf(10) + 1;
    if (end < bytes.length) ftruncateSync(this.#fd, end);
    if (end === 0) {
      const epoch = randomBytes(5).toString('hex');
      writeSync(this.#fd, `${JSON.stringify({ store: 'busline-file-store', epoch })}\n`);
      return epoch;
    }
    const [head, ...lines] = bytes
      .subarray(0, end - 1)
      .toString('utf8')
      .split('\n');
    const header = parseLine(this.path, 1, head!) as { store?: unknown; epoch?: unknown };
    if (header.store !== 'busline-file-store' || typeof header.epoch !== 'string') {
      throw new StoreUnavailableError(`${this.path} is not a busline file store`);
    }
    lines.forEach((line, i) => {
      for (const event of parseLine(this.path, i + 2, line) as StoredEvent[]) this.#remember(event);
    });
    return header.epoch;
  }

  #remember(event: StoredEvent): void {
    this.#events.push(event);
    this.#cursors.set(event.id, event.cursor);
    this.#streams.set(event.stream, (this.#streams.get(event.stream) ?? 0) + 1);
  }

  #cursor(seq: number): string {
    return `${this.#epoch}-${String(seq).padStart(16, '0')}`;
  }

  /** The sequence of a cursor of this file; -1 for another file's; throws when malformed. */
  #parse(cursor: string): number {
    const match = /^([0-9a-f]{10})-(\d{16})$/.exec(cursor);
    if (match === null) {
      throw new InvalidOptionError(
        `Expected \`after\` to be a cursor of this store, got ${JSON.stringify(cursor)}`,
      );
    }
    return match[1] === this.#epoch ? Number(match[2]) : -1;
  }

  #assertOpen(): void {
    if (this.#closed) throw new ClosedError('The file event store is closed');
  }
}

function parseLine(path: string, number: number, line: string): unknown {
  try {
    // JSON.parse keeps a `__proto__` key as an own property; it never sets a prototype.
    return JSON.parse(line);
  } catch (error) {
    throw new StoreUnavailableError(`${path}:${number} is not valid JSON`, { cause: error });
  }
}

function withTruncated(page: ReadPage, truncated: boolean): ReadPage {
  if (truncated) page.truncated = true;
  return page;
}

/** Takes `<file>.lock` for this process, or takes it over from a process that no longer runs. */
function lock(lockPath: string): void {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      writeFileSync(lockPath, String(process.pid), { flag: 'wx' });
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const owner = Number(readFileSync(lockPath, 'utf8'));
    if (Number.isInteger(owner) && owner > 0 && isRunning(owner)) {
      throw new StoreUnavailableError(`${lockPath} says process ${owner} has this store open`);
    }
    try {
      unlinkSync(lockPath); // stale: its owner was killed
    } catch {
      // another process took it over first; try again
    }
  }
  throw new StoreUnavailableError(`Could not take ${lockPath}`);
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
