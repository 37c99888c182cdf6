/**
 * A fixed-size array of bits over a Uint8Array: bit i lives in byte i >> 3 at position i & 7.
 *
 * Our own rather than bloom-filters' BitSet: that package's entry loads `reflect-metadata`,
 * which patches the global `Reflect` (a side effect an embedded library must not impose on
 * its host), and reaching its BitSet without the entry meant deep imports into its dist/,
 * private paths that a release with an `exports` map would break. This is all we used of it.
 */
export class BitArray {
  /** The bits, eight per byte; the Deduplicator reads and writes them inline on its hot path. */
  readonly bytes: Uint8Array;

  constructor(readonly size: number) {
    this.bytes = new Uint8Array(Math.ceil(size / 8));
  }

  has(index: number): boolean {
    return (this.bytes[index >>> 3]! & (1 << (index & 7))) !== 0;
  }

  add(index: number): void {
    this.bytes[index >>> 3]! |= 1 << (index & 7);
  }

  clear(): void {
    this.bytes.fill(0);
  }
}
