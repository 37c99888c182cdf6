/**
 * The simulated store's cursors: zero-padded sequence numbers, so plain `<` on the strings is
 * append order (the port's requirement), and a trimmed cursor is still recognisable.
 */
export function cursorOf(seq: number): string {
  return `c${String(seq).padStart(10, '0')}`;
}

export function seqOf(cursor: string): number {
  if (!/^c\d{10}$/.test(cursor)) throw new Error(`Not a cursor of this store: ${JSON.stringify(cursor)}`);
  return Number(cursor.slice(1));
}
