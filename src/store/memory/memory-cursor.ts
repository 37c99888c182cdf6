import { randomBytes } from 'node:crypto';

/** Fixed width, so cursors of one store sort as strings in append order. */
const SEQ_DIGITS = 16;

/**
 * Memory-store cursors are `<epoch>-<sequence>`: the epoch is random per store instance, so
 * a cursor kept by a client across a process restart is recognised as belonging to an
 * earlier store (history it cannot resume) instead of pointing at an unrelated event.
 */
export class MemoryCursor {
  readonly epoch: string;
  readonly #prefix: string;
  /** `#heads[n]`: the prefix and the zeros that pad n digits to SEQ_DIGITS (no padStart per cursor). */
  readonly #heads: string[];

  constructor() {
    // Assigned here, not as field initializers: the CJS build's class-field lowering does
    // not keep a private field initialized after the public one it reads.
    this.epoch = randomBytes(5).toString('hex');
    this.#prefix = `${this.epoch}-`;
    this.#heads = Array.from({ length: SEQ_DIGITS + 1 }, (_, n) => this.#prefix + '0'.repeat(SEQ_DIGITS - n));
  }

  format(seq: number): string {
    const digits = String(seq);
    return this.#heads[digits.length]! + digits;
  }

  /**
   * The sequence number of a cursor of this store; `-1` for a well-formed cursor of another
   * epoch (treat as "before everything, history lost"); `undefined` when malformed.
   */
  parse(cursor: string): number | undefined {
    const dash = cursor.indexOf('-');
    const digits = cursor.slice(dash + 1);
    if (dash < 1 || digits.length !== SEQ_DIGITS || !/^\d+$/.test(digits)) return undefined;
    return cursor.startsWith(this.#prefix) ? Number(digits) : -1;
  }
}
