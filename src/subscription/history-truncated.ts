/**
 * Yielded inline by a subscription with `onTruncated: 'signal'` when the store no longer
 * retains everything after the reader's cursor (on replay, or while catching up): the reader
 * learns that events are missing instead of silently skipping past them, and the iteration
 * continues with what the store still holds (from the oldest retained event, or live when
 * nothing of that history remains). Check with `instanceof HistoryTruncated`.
 * The default (`onTruncated: 'throw'`) ends the loop with a `HistoryTruncatedError` instead.
 */
export class HistoryTruncated {
  readonly kind = 'history_truncated' as const;
  constructor(
    /** The cursor the reader was continuing after (undefined for a replay from the start). */
    readonly after: string | undefined,
    readonly message: string,
    /** The oldest cursor the store still retains, when known. */
    readonly oldest?: string,
  ) {}
}
