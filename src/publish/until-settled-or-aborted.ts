/**
 * How a publish waits for the handler queues it filled (backpressure): until they have room,
 * or until the publish's `signal` aborts, whichever is first; a failed wait is no reason to fail
 * the publish, whose event is already delivered.
 */

/** Resolves when `promise` settles or `signal` aborts, whichever is first (never rejects). */
export function untilSettledOrAborted(
  promise: Promise<unknown>,
  signal: AbortSignal | undefined,
): Promise<void> {
  const settled = promise.then(
    () => undefined,
    () => undefined,
  );
  if (signal === undefined) return settled;
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const onAbort = (): void => resolve();
    signal.addEventListener('abort', onAbort, { once: true });
    void settled.then(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    });
  });
}
