/**
 * Reads a request body with a size cap and a deadline. Never rejects: a client that goes
 * away mid-body (`aborted`, `ECONNRESET`) is an outcome, not an exception, so one reset
 * request can never take the process down.
 */
import type { IncomingMessage } from 'node:http';

export type BodyResult =
  | { ok: true; body: string }
  /** `too large`: over `limit` (declared or sent); `timeout`: not complete within `timeoutMs`; `aborted`: the client went away. */
  | { ok: false; reason: 'too large' | 'timeout' | 'aborted' };

export function readBody(req: IncomingMessage, limit: number, timeoutMs: number): Promise<BodyResult> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const finish = (result: BodyResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.off('data', onData);
      resolve(result);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        req.resume(); // discard the rest; the caller answers 413 and closes the connection
        finish({ ok: false, reason: 'too large' });
        return;
      }
      chunks.push(chunk);
    };
    // Without this deadline a client trickling one byte every few seconds holds the
    // connection until node's requestTimeout (300 s by default).
    const timer = setTimeout(() => finish({ ok: false, reason: 'timeout' }), timeoutMs);
    const declared = Number(req.headers['content-length']);
    if (declared > limit) return finish({ ok: false, reason: 'too large' });
    req.on('data', onData);
    req.once('end', () => finish({ ok: true, body: Buffer.concat(chunks).toString('utf8') }));
    req.once('aborted', () => finish({ ok: false, reason: 'aborted' }));
    req.once('close', () => finish({ ok: false, reason: 'aborted' })); // closed before 'end'
    req.on('error', () => finish({ ok: false, reason: 'aborted' })); // stays attached: a later error is handled too
  });
}
