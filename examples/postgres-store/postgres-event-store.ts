/**
 * An EventStore for busline on PostgreSQL (node-postgres), in one file: a table of events,
 * a tiny side table for retention bookkeeping, and a handful of SQL statements. It passes
 * the same conformance suite as the built-in stores (`describeEventStore`).
 *
 * @example
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
 * const store = await PostgresEventStore.create({ pool, maxEventsPerStream: 10_000 });
 * const bus = new EventBus({ store });
 * // …
 * await bus.close();
 * await store.close(); // the bus does not close a store it was given; this leaves the pool alone
 * await pool.end();  // the pool is yours
 */
import {
  type AppendResult,
  type BusEvent,
  ClosedError,
  checkAppendInput,
  checkReadQuery,
  type EventStore,
  InvalidEventError,
  InvalidOptionError,
  type ReadPage,
  type ReadQuery,
  type StoredEvent,
  type StoreStats,
} from 'busline';
import type { Pool, PoolClient } from 'pg';

export interface PostgresEventStoreOptions {
  /**
   * A node-postgres pool. The caller owns it: `close()` never ends it, so one pool can
   * serve this store and the rest of the application.
   */
  pool: Pool;
  /**
   * Table for the events (lower-case letters, digits and `_`, at most 48 characters). A
   * `<table>_evicted` side table sits next to it. @default 'busline_events'
   */
  table?: string;
  /** Keep at most this many events per stream; older ones are deleted when a stream grows past it. @default unlimited */
  maxEventsPerStream?: number;
}

/** Cursors are the row's bigint `seq`, zero-padded so that string order is numeric order. */
const CURSOR_DIGITS = 20;
const CURSOR_PATTERN = /^\d{20}$/;
const MAX_BIGINT = 9_223_372_036_854_775_807n;
/** First key of the append lock ("busl"); the second one is a hash of the table name. */
const LOCK_NAMESPACE = 0x6275_736c;

/** The parameters of the multi-row INSERT: one array per column, in event order. */
type Columns = [
  ids: string[],
  types: string[],
  streams: string[],
  times: number[],
  data: (string | null)[],
  meta: (string | null)[],
];

/** A row as read back; `seq` comes as a string (node-postgres keeps bigints exact). */
interface EventRow {
  seq: string;
  id: string;
  type: string;
  stream: string;
  time: number;
  data: string | null;
  meta: string | null;
}

export class PostgresEventStore implements EventStore {
  readonly #pool: Pool;
  readonly #name: string;
  /** The quoted table names, ready to splice into SQL. */
  readonly #table: string;
  readonly #evicted: string;
  readonly #maxPerStream: number | undefined;
  readonly #beginAppend: string;
  #closed = false;

  /** Creates the store and its tables when they are missing. */
  static async create(options: PostgresEventStoreOptions): Promise<PostgresEventStore> {
    const store = new PostgresEventStore(options);
    await store.init();
    return store;
  }

  /** Use `create()`, or call `init()` once before the first append or read. */
  constructor({ pool, table = 'busline_events', maxEventsPerStream }: PostgresEventStoreOptions) {
    if (pool === null || typeof pool !== 'object' || typeof pool.connect !== 'function') {
      throw new InvalidOptionError('Expected `pool` to be a pg Pool');
    }
    // The name is spliced into SQL, so only plain identifiers are accepted.
    if (typeof table !== 'string' || !/^[a-z_][a-z0-9_]{0,47}$/.test(table)) {
      throw new InvalidOptionError(
        `Expected \`table\` to be a lower-case SQL identifier of at most 48 characters, got ${JSON.stringify(table)}`,
      );
    }
    if (
      maxEventsPerStream !== undefined &&
      (!Number.isSafeInteger(maxEventsPerStream) || maxEventsPerStream < 1)
    ) {
      throw new InvalidOptionError(
        `Expected \`maxEventsPerStream\` to be a positive integer, got ${maxEventsPerStream}`,
      );
    }
    this.#pool = pool;
    this.#name = table;
    this.#table = `"${table}"`;
    this.#evicted = `"${table}_evicted"`;
    this.#maxPerStream = maxEventsPerStream;
    // Why appends take a lock: PostgreSQL hands out sequence values when rows are inserted,
    // but makes them visible when their transaction commits. Two concurrent appends could
    // take seq 7 and 8 and commit 8 first; a reader would then return cursor 8, and 7 would
    // appear later *below* a cursor it already passed. The bus's replay → live handover
    // relies on that never happening (see EventStore.append). So every append takes one
    // transaction-scoped advisory lock per table before inserting: appends draw their seq
    // values and commit one after the other, and every reader sees a prefix of the log.
    // Reads take no lock. (Hash collisions between table names only serialize a little more.)
    this.#beginAppend = `BEGIN; SELECT pg_advisory_xact_lock(${LOCK_NAMESPACE}, hashtext('${table}'))`;
  }

  /** Creates the tables and indexes if they are missing. Idempotent, safe to run from several processes. */
  async init(): Promise<void> {
    this.#assertOpen();
    await this.#transaction(this.#beginAppend, (client) =>
      client.query(`
        CREATE TABLE IF NOT EXISTS ${this.#table} (
          seq    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
          id     text NOT NULL UNIQUE,
          type   text NOT NULL,
          stream text NOT NULL,
          time   double precision NOT NULL,
          data   json,
          meta   json
        );
        CREATE INDEX IF NOT EXISTS "${this.#name}_stream_seq" ON ${this.#table} (stream, seq);
        CREATE TABLE IF NOT EXISTS ${this.#evicted} (
          stream       text PRIMARY KEY,
          evicted_high bigint NOT NULL
        );
        CREATE INDEX IF NOT EXISTS "${this.#name}_evicted_high" ON ${this.#evicted} (evicted_high);
      `),
    );
  }

  async append(events: readonly BusEvent[]): Promise<AppendResult[]> {
    this.#assertOpen();
    const columns = toColumns(events); // validates everything before touching the database
    if (events.length === 0) return [];
    return this.#transaction(this.#beginAppend, async (client) => {
      // One statement inserts the batch and finds the ids that were already stored. The
      // SELECT after UNION ALL runs on the statement's snapshot, so it sees only rows that
      // existed before this call; ids repeated within the call are settled below.
      const { rows } = await client.query<{ id: string; seq: string; inserted: boolean }>(
        `WITH input AS (
           SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::float8[], $5::json[], $6::json[])
             WITH ORDINALITY AS e(id, type, stream, time, data, meta, n)
         ), inserted AS (
           INSERT INTO ${this.#table} (id, type, stream, time, data, meta)
           SELECT id, type, stream, time, data, meta FROM input ORDER BY n
           ON CONFLICT (id) DO NOTHING
           RETURNING id, seq
         )
         SELECT id, seq, true AS inserted FROM inserted
         UNION ALL
         SELECT id, seq, false FROM ${this.#table} WHERE id = ANY($1::text[])`,
        columns,
      );
      const stored = new Map(rows.map((row) => [row.id, row]));
      const seen = new Set<string>();
      const results = events.map(({ id }): AppendResult => {
        const row = stored.get(id)!;
        const duplicate = !row.inserted || seen.has(id);
        seen.add(id);
        return { id, cursor: toCursor(row.seq), duplicate };
      });
      if (this.#maxPerStream !== undefined && rows.some((row) => row.inserted)) {
        await this.#applyRetention(client, [...new Set(columns[2])]);
      }
      return results;
    });
  }

  async read(query: ReadQuery = {}): Promise<ReadPage> {
    this.#assertOpen();
    const q = checkReadQuery(query);
    const after = q.after === undefined ? undefined : parseCursor(q.after);
    const where: string[] = [];
    const params: unknown[] = [];
    const param = (value: unknown): string => `$${params.push(value)}`;
    if (q.stream !== undefined) where.push(`stream = ${param(q.stream)}`);
    if (q.since !== Number.NEGATIVE_INFINITY) where.push(`time >= ${param(q.since)}`);
    if (q.until !== Number.POSITIVE_INFINITY) where.push(`time < ${param(q.until)}`);
    // Literal types become an SQL condition; wildcard patterns are matched below with the
    // bus's own TypeMatcher (from checkReadQuery), so the matching rules are exactly the bus's.
    let matcher = q.types;
    if (matcher?.patterns.every((p) => p.isLiteral)) {
      where.push(`type = ANY(${param(matcher.patterns.map((p) => p.source))}::text[])`);
      matcher = undefined;
    }
    // Rows are fetched in batches after a moving position; `limit + 1` rows tell whether
    // more follow. With a pattern filter a batch may hold few matches, so batches are larger.
    const batch = matcher === undefined ? q.limit + 1 : Math.max(q.limit + 1, 500);
    // The last parameter is the scan position (a seq), moved forward after every batch.
    where.push(`seq ${q.backward ? '<' : '>'} ${param(null)}::bigint`);
    const positionParam = params.length - 1;
    const sql = `SELECT seq, id, type, stream, time, data::text AS data, meta::text AS meta
      FROM ${this.#table} WHERE ${where.join(' AND ')}
      ORDER BY seq ${q.backward ? 'DESC' : 'ASC'} LIMIT ${batch}`;

    // One snapshot for the whole page: every batch and the truncation check see the same rows.
    return this.#transaction('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY', async (client) => {
      const page: ReadPage = { events: [] };
      params[positionParam] = after ?? (q.backward ? MAX_BIGINT.toString() : '0');
      scan: for (;;) {
        const { rows } = await client.query<EventRow>(sql, params);
        for (const row of rows) {
          params[positionParam] = row.seq;
          if (matcher !== undefined && !matcher.matches(row.type)) continue;
          // One match past a full page proves there is more: only then is `next` set.
          if (page.events.length === q.limit) {
            page.next = page.events[q.limit - 1]!.cursor;
            break scan;
          }
          page.events.push(toEvent(row));
        }
        if (rows.length < batch) break;
      }
      if (after !== undefined && !q.backward && (await this.#evictedAfter(client, after, q.stream))) {
        page.truncated = true;
      }
      return page;
    });
  }

  async has(id: string): Promise<boolean> {
    this.#assertOpen();
    const { rowCount } = await this.#pool.query(`SELECT 1 FROM ${this.#table} WHERE id = $1`, [id]);
    return rowCount === 1;
  }

  /** Counts with a scan of the table: fine for an example, use estimates for huge tables. */
  async stats(): Promise<StoreStats> {
    this.#assertOpen();
    const { rows } = await this.#pool.query<{ events: string; streams: string }>(
      `SELECT count(*) AS events, count(DISTINCT stream) AS streams FROM ${this.#table}`,
    );
    const stats: StoreStats = {
      events: Number(rows[0]!.events),
      streams: Number(rows[0]!.streams),
      table: this.#name,
    };
    if (this.#maxPerStream !== undefined) stats.maxEventsPerStream = this.#maxPerStream;
    return stats;
  }

  /** Marks the store closed. The pool belongs to the caller and stays open. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
  }

  /**
   * Deletes what lies beyond the newest `maxEventsPerStream` events of the given streams,
   * and records the highest deleted seq per stream, so that `read` can tell a reader its
   * cursor was overtaken (`truncated`). Runs inside the append transaction, under its lock.
   */
  async #applyRetention(client: PoolClient, streams: string[]): Promise<void> {
    await client.query(
      `WITH cut AS (
         SELECT s.stream, oldest_kept.seq FROM unnest($1::text[]) AS s(stream)
         CROSS JOIN LATERAL (
           SELECT seq FROM ${this.#table} WHERE stream = s.stream ORDER BY seq DESC OFFSET $2 LIMIT 1
         ) AS oldest_kept
       ), deleted AS (
         DELETE FROM ${this.#table} AS e USING cut
         WHERE e.stream = cut.stream AND e.seq <= cut.seq
         RETURNING e.stream, e.seq
       )
       INSERT INTO ${this.#evicted} AS x (stream, evicted_high)
       SELECT stream, max(seq) FROM deleted GROUP BY stream
       ON CONFLICT (stream) DO UPDATE SET evicted_high = greatest(x.evicted_high, excluded.evicted_high)`,
      [streams, this.#maxPerStream],
    );
  }

  /** Was an event after `after` (of `stream`, or of any stream) deleted by retention? */
  async #evictedAfter(client: PoolClient, after: string, stream: string | undefined): Promise<boolean> {
    const { rows } = await client.query<{ high: string | null }>(
      stream === undefined
        ? `SELECT max(evicted_high) AS high FROM ${this.#evicted}`
        : `SELECT evicted_high AS high FROM ${this.#evicted} WHERE stream = $1`,
      stream === undefined ? [] : [stream],
    );
    const high = rows[0]?.high;
    return high != null && BigInt(high) > BigInt(after);
  }

  async #transaction<T>(begin: string, work: (client: PoolClient) => Promise<T>): Promise<T> {
    const client = await this.#pool.connect();
    let broken: Error | undefined;
    try {
      await client.query(begin);
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      // A client whose ROLLBACK fails is in an unknown state: release(error) discards it.
      await client.query('ROLLBACK').catch((rollbackError: Error) => {
        broken = rollbackError;
      });
      throw error;
    } finally {
      client.release(broken);
    }
  }

  #assertOpen(): void {
    if (this.#closed) throw new ClosedError('The PostgreSQL event store is closed');
  }
}

function toCursor(seq: string): string {
  return seq.padStart(CURSOR_DIGITS, '0');
}

/** Returns the seq of a cursor, as a string for a bigint parameter. */
function parseCursor(cursor: string): string {
  if (!CURSOR_PATTERN.test(cursor) || BigInt(cursor) > MAX_BIGINT) {
    throw new InvalidOptionError(
      `Expected \`after\` to be a cursor of this store, got ${JSON.stringify(cursor)}`,
    );
  }
  return BigInt(cursor).toString();
}

function toEvent(row: EventRow): StoredEvent {
  const event = {
    id: row.id,
    type: row.type,
    stream: row.stream,
    time: row.time,
    // JSON.parse keeps a `__proto__` key as an own property, it never sets the prototype.
    data: row.data === null ? undefined : JSON.parse(row.data),
    cursor: toCursor(row.seq),
  };
  return row.meta === null ? event : { ...event, meta: JSON.parse(row.meta) };
}

/**
 * Validates the batch (all or nothing) and turns it into one array per column, for a single
 * multi-row INSERT. `data` and `meta` go into `json` columns as JSON.stringify output:
 * - not `jsonb`: jsonb cannot hold the string escape `\u0000` (PostgreSQL rejects it) and
 *   it reorders keys and drops duplicates; `json` keeps the text exactly as given;
 * - not `text`: `json` checks the syntax and keeps `data->>'field'` queries possible.
 * Reads cast back to text and JSON.parse, independently of pg's global type parsers.
 */
function toColumns(input: readonly BusEvent[]): Columns {
  // busline's own envelope checks (the error every built-in store throws), on copies read once:
  // the columns are built from exactly what was checked.
  const events = checkAppendInput(input);
  const columns: Columns = [[], [], [], [], [], []];
  events.forEach((event, index) => {
    let data: string | undefined;
    try {
      data = JSON.stringify(event.data);
    } catch (error) {
      throw new InvalidEventError('expected "data" to be JSON-serializable', { index, cause: error });
    }
    columns[0].push(event.id);
    columns[1].push(event.type);
    columns[2].push(event.stream);
    columns[3].push(event.time);
    columns[4].push(data ?? null);
    columns[5].push(event.meta === undefined ? null : JSON.stringify(event.meta));
  });
  return columns;
}
