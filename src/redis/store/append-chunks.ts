import { StoreUnavailableError } from '../../errors.js';

// How a large RedisEventStore.append is split into script calls (docs/redis.md, "Scripts").

/**
 * An append's failure, saying whether it may have been applied: a script that was sent and
 * timed out may still run (Redis was slow, not gone), and the live feed then delivers its events.
 * A failure after the first chunk of a split append leaves the chunks before it stored.
 */
export function appendFailed(error: unknown, count: number, from: number): unknown {
  const what = count === 1 ? 'The append' : `The append of ${count} events`;
  const retry = `Publishing again with the same event ${count === 1 ? 'id' : 'ids'} is safe: a duplicate, answered with the original cursor`;
  if (from > 0) {
    const reason = error instanceof Error ? error.message : String(error);
    return new StoreUnavailableError(
      `${what} stored events 0 to ${from - 1} (it was split into script calls, each atomic), then failed: ${reason}. ${retry}, and completes it`,
      { cause: error, mayHaveApplied: true },
    );
  }
  if (!(error instanceof StoreUnavailableError) || error.mayHaveApplied === undefined) return error;
  const message = error.mayHaveApplied
    ? `${what} may still have been applied, and its events delivered: ${error.message}. ${retry}`
    : `${what} was not applied: ${error.message}`;
  return new StoreUnavailableError(message, { cause: error, mayHaveApplied: error.mayHaveApplied });
}

/**
 * Splits an append into script calls of at most `maxEvents` events and `maxBytes` of JSON (an
 * event larger than `maxBytes` goes alone): [from, to) index pairs.
 */
export function appendChunks(
  encoded: readonly string[],
  maxEvents: number,
  maxBytes: number,
): [number, number][] {
  const chunks: [number, number][] = [];
  let from = 0;
  let bytes = 0;
  for (let i = 0; i < encoded.length; i++) {
    const size = Buffer.byteLength(encoded[i]!, 'utf8');
    if (i > from && (i - from >= maxEvents || bytes + size > maxBytes)) {
      chunks.push([from, i]);
      from = i;
      bytes = 0;
    }
    bytes += size;
  }
  chunks.push([from, encoded.length]);
  return chunks;
}
