import { randomHex } from '../../random-hex.js';

/** Fixed width, so cursors of one store sort as strings in append order. */
const SEQ_DIGITS = 16;

/**
 * Memory-store cursors are `<epoch>-<sequence>`: the epoch is random per store instance, so
 * a cursor kept by a client across a process restart is recognised as belonging to an
 * earlier store (history it cannot resume) instead of pointing at an unrelated event.
 */
export class MemoryCursor {
  #epoch: string | undefined;
  #prefix = '';
  /** `#heads[n]`: the prefix and the zeros that pad n digits to SEQ_DIGITS (no padStart per cursor). */
  #heads: string[] = [];

  get epoch(): string {
    return this.#epoch ?? this.#start();
  }

  format(seq: number): string {
    if (this.#epoch === undefined) this.#start();
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
    if (this.#epoch === undefined) this.#start();
    return cursor.startsWith(this.#prefix) ? Number(digits) : -1;
  }

  /**
   * Draws the epoch on first use, not in the constructor: a bus (and its store) built in a
   * Worker's global scope must not make random values there, which Workers refuse.
   */
  #start(): string {
    const epoch = randomHex(5);
    this.#epoch = epoch;
    this.#prefix = `${epoch}-`;
    this.#heads = Array.from({ length: SEQ_DIGITS + 1 }, (_, n) => this.#prefix + '0'.repeat(SEQ_DIGITS - n));
    return epoch;
  }
}
