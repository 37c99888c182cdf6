/**
 * Yielded by a replaying subscription (before the events that follow) when the store no
 * longer retains everything after the requested cursor: the reader learns that events are
 * missing instead of silently skipping past them. Check with `instanceof HistoryTruncated`.
 * Pass `onTruncated: 'throw'` to get a `HistoryTruncatedError` instead.
 */
export class HistoryTruncated {
  readonly kind = 'history_truncated' as const;
  constructor(
    /** The cursor the replay was asked to continue after (undefined for a replay from the start). */
    readonly after: string | undefined,
    readonly message: string,
  ) {}
}
