/** Bounds on names and patterns, from the public contract (API.md, "Patterns"). */
export const PATTERN_LIMITS = {
  /** Longest pattern or event type, in UTF-16 code units. */
  maxLength: 256,
  /** Most segments in a pattern or event type. */
  maxSegments: 32,
  /**
   * Most patterns in one subscription (`on`, `once`, `subscribe`, `consume`). Registering a
   * wildcard pattern checks it against the cached event types, so a client-chosen list of
   * thousands would block the event loop (1,790 patterns: 117 ms).
   */
  maxPatternsPerSubscription: 256,
} as const;

/** Segment separator for event types and patterns. */
export const SEPARATOR = '.';
/** Matches exactly one segment. */
export const STAR = '*';
/** Matches zero or more segments. */
export const GLOBSTAR = '**';

/**
 * Control characters are refused in names (they break logs, SSE frames and terminals), and
 * so are lone UTF-16 surrogates (no UTF-8 store could keep them exactly).
 */
export function hasControlCharacter(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) return true;
    if (c >= 0xd800 && c <= 0xdfff) {
      const next = value.charCodeAt(i + 1);
      if (c > 0xdbff || !(next >= 0xdc00 && next <= 0xdfff)) return true;
      i++; // a valid pair
    }
  }
  return false;
}
