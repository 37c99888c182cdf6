/** Bounds on names and patterns, from the public contract (API.md, "Patterns"). */
export const PATTERN_LIMITS = {
  /** Longest pattern or event type, in UTF-16 code units. */
  maxLength: 256,
  /** Most segments in a pattern or event type. */
  maxSegments: 32,
} as const;

/** Segment separator for event types and patterns. */
export const SEPARATOR = '.';
/** Matches exactly one segment. */
export const STAR = '*';
/** Matches zero or more segments. */
export const GLOBSTAR = '**';

/** Control characters are refused in names: they break logs, SSE frames and terminals. */
export function hasControlCharacter(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) return true;
  }
  return false;
}
