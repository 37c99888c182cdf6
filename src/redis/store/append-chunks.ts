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
 *
 * Three bytes per UTF-16 unit bound a string's UTF-8 size: while a chunk's bound fits, its
 * events are not measured (a native call each); only a chunk that may be near `maxBytes` is.
 */
export function appendChunks(
  encoded: readonly string[],
  maxEvents: number,
  maxBytes: number,
): [number, number][] {
  const chunks: [number, number][] = [];
  let from = 0;
  /** UTF-8 bytes of the chunk so far: an upper bound until `exact`. */
  let bytes = 0;
  let exact = false;
  for (let i = 0; i < encoded.length; i++) {
    let size = encoded[i]!.length * 3;
    if (!exact && bytes + size > maxBytes) {
      // Near the bound: measure the chunk so far and go on measuring.
      exact = true;
      bytes = 0;
      for (let j = from; j < i; j++) bytes += utf8Bytes(encoded[j]!);
    }
    if (exact) size = utf8Bytes(encoded[i]!);
    if (i > from && (i - from >= maxEvents || bytes + size > maxBytes)) {
      chunks.push([from, i]);
      from = i;
      bytes = 0;
      exact = false;
      // The event that opens the next chunk: its bound or, past the bound, its exact size.
      size = encoded[i]!.length * 3;
      if (size > maxBytes) {
        exact = true;
        size = utf8Bytes(encoded[i]!);
      }
    }
    bytes += size;
  }
  chunks.push([from, encoded.length]);
  return chunks;
}

function utf8Bytes(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}
