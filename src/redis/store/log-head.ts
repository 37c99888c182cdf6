import { StoreUnavailableError } from '../../errors.js';
import type { RedisCalls } from '../client/redis-calls.js';
import type { RedisConnection, RedisReply } from '../client/redis-connection.js';
import { TAIL_START } from './lua-scripts.js';
import { formatCursor, maxId, newEpoch, type RedisId } from './redis-cursor.js';
import type { RedisKeys } from './redis-keys.js';

/** Where the log ends: its epoch (made now if the store was never written), newest entry id and trim mark. */
export interface LogHead {
  epoch: string;
  newest: RedisId | '';
  mark: RedisId | '';
}

/**
 * Reads the log's head in one script (TAIL_START): the epoch, created if missing so that a
 * position taken on a store never written to stays valid once the first append comes, the
 * newest entry's id (whatever the retention cutoff hides) and the trim mark.
 */
export async function readLogHead(
  calls: RedisCalls,
  connection: RedisConnection,
  keys: RedisKeys,
  signal?: AbortSignal,
): Promise<LogHead> {
  const reply: RedisReply = await calls.script(
    connection,
    TAIL_START,
    [keys.epoch, keys.log, keys.logMark],
    [newEpoch()],
    signal === undefined ? undefined : { signal },
  );
  if (!Array.isArray(reply) || reply.length !== 3 || !reply.every((item) => typeof item === 'string')) {
    throw new StoreUnavailableError('Unexpected reply to the tail-start script from Redis');
  }
  const [epoch, newest, mark] = reply as [string, string, string];
  return { epoch, newest, mark };
}

/**
 * The cursor of the log's end (ReadPage.head): after its newest entry, or after the trim mark
 * when retention removed every entry, or before the first id of an empty epoch. A tail after
 * it misses nothing appended later and reports retention that passes it.
 */
export function headCursor(head: LogHead): string {
  return formatCursor(head.epoch, maxId(head.newest, head.mark) || '0-0');
}
