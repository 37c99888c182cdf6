import type { SSEServerResponse } from './node-http-types.js';

/** How a pump ended: the stream finished or the client left (`ended`), or the client stopped reading (`stalled`). */
export type PumpOutcome = 'ended' | 'stalled';

/**
 * Copies the stream to the response at the client's pace: when `res.write()` returns false it
 * waits for `'drain'` before reading on, so a slow client leaves events in the bounded
 * subscription buffer. A client that has not drained within `drainTimeoutMs` (0: no limit) is
 * `stalled`; so is one that does not take the last bytes after the stream ended, or its socket
 * would stay open. The caller destroys the response then.
 */
export async function pumpToResponse(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  res: SSEServerResponse,
  drainTimeoutMs: number,
): Promise<PumpOutcome> {
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done || res.destroyed) break;
      if (!res.write(value) && !(await flushed(res, 'drain', drainTimeoutMs))) return 'stalled';
    }
  } catch {
    // The stream failed or was cancelled because the client left; nothing more to send.
  }
  if (res.destroyed || res.writableEnded) return 'ended';
  res.end();
  if (res.writableFinished) return 'ended';
  return (await flushed(res, 'finish', drainTimeoutMs)) ? 'ended' : 'stalled';
}

/** Waits for `event` or `'close'`: true when one came, false when neither did within `ms` (0: no limit). */
function flushed(res: SSEServerResponse, event: 'drain' | 'finish', ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let settled = false;
    const settle = (value: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      res.off(event, onFlushed);
      res.off('close', onFlushed);
      resolve(value);
    };
    const onFlushed = (): void => settle(true);
    res.on(event, onFlushed);
    res.on('close', onFlushed);
    // Timers run before pending I/O in a loop turn: after a busy stretch the deadline could
    // pass with the 'drain' already due. One more turn (setImmediate) lets that I/O through.
    if (ms > 0) timer = setTimeout(() => setImmediate(() => settle(false)), ms);
  });
}
