/**
 * `error.type` and the span status description of a failure. The conventions want a low-cardinality
 * class name: an Error's `name` (busline's errors name their class), else `_OTHER`. Handlers
 * throw anything, so reading it may itself throw (a getter, a proxy): that gives `_OTHER` too.
 */

/** The conventions' fallback value. */
const OTHER = '_OTHER';
/** Past this a "class name" is not one: it would only add cardinality. */
const MAX_NAME = 100;

export interface FailureDescription {
  type: string;
  message: string | undefined;
}

export function describeFailure(error: unknown): FailureDescription {
  try {
    if (!(error instanceof Error)) return { type: OTHER, message: undefined };
    const { name, message } = error;
    const type = typeof name === 'string' && name !== '' && name.length <= MAX_NAME ? name : OTHER;
    return { type, message: typeof message === 'string' ? message : undefined };
  } catch {
    return { type: OTHER, message: undefined };
  }
}
