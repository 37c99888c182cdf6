const HEX_BYTES = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));

/**
 * `byteCount` random bytes from Web Crypto as lowercase hex: the same in browsers, workers,
 * Deno, Bun and Node (no `node:crypto`). Call it from a constructor or a handler, never at
 * module load: Cloudflare Workers refuse to make random values in the global scope.
 */
export function randomHex(byteCount: number): string {
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(byteCount));
  let hex = '';
  for (let i = 0; i < bytes.length; i++) hex += HEX_BYTES[bytes[i]!];
  return hex;
}
