/** One message of an event stream, as an EventSource would dispatch it. */
export interface SSEMessage {
  /** The `event:` field, `message` when there was none. */
  type: string;
  /** The `data:` lines joined with LF. */
  data: string;
  /** The last event id after this message (what a reconnect sends as Last-Event-ID). */
  lastEventId: string;
}

/**
 * "Interpreting an event stream" of the WHATWG HTML standard, fed text as it arrives: lines end
 * with CRLF, LF or CR (a CRLF may be split across two chunks), `:` starts a comment, a field's
 * value loses one leading space, `data` lines are joined with LF, an `id` holding NUL is
 * ignored, `retry` takes ASCII digits only, and a blank line dispatches. A message whose data
 * is empty is not dispatched, but its `id` still becomes the last event id.
 *
 * Decoding (UTF-8, a leading BOM dropped) is the caller's: `TextDecoder` does both.
 */
export class EventStreamParser {
  /** The last event id string of the event source: it outlives a connection. */
  lastEventId: string;
  /** The reconnection time the server asked for with `retry:`, if any. */
  retryMs: number | undefined;
  #line = '';
  /** The previous chunk ended with CR: an LF starting the next one belongs to that line end. */
  #afterCR = false;
  #data: string[] = [];
  #type = '';
  /** The last event id buffer: committed to `lastEventId` when a message is dispatched. */
  #id: string;

  constructor(lastEventId = '') {
    this.lastEventId = lastEventId;
    this.#id = lastEventId;
  }

  /**
   * A new connection: what was not dispatched is discarded (the spec drops a message cut off by
   * the end of the stream). The id buffer restarts from the last event id, as browsers do, so a
   * blank line before the first `id:` cannot clear it.
   */
  reset(): void {
    this.#line = '';
    this.#afterCR = false;
    this.#data = [];
    this.#type = '';
    this.#id = this.lastEventId;
  }

  /** Parses the next piece of the stream; returns the messages it completed, in order. */
  push(text: string): SSEMessage[] {
    const out: SSEMessage[] = [];
    let start = 0;
    if (this.#afterCR && text.startsWith('\n')) start = 1;
    this.#afterCR = false;
    for (let i = start; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      this.#onLine(this.#line + text.slice(start, i), out);
      this.#line = '';
      if (c === 13) {
        if (i + 1 === text.length) this.#afterCR = true;
        else if (text.charCodeAt(i + 1) === 10) i++;
      }
      start = i + 1;
    }
    this.#line += text.slice(start);
    return out;
  }

  #onLine(line: string, out: SSEMessage[]): void {
    if (line === '') {
      this.#dispatch(out);
      return;
    }
    if (line.charCodeAt(0) === 58) return; // ':' a comment (heartbeats)
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    if (field === 'data') this.#data.push(value);
    else if (field === 'event') this.#type = value;
    else if (field === 'id') {
      // Browsers ignore such an id: resuming from a mangled cursor would skip or repeat events.
      if (!value.includes('\0')) this.#id = value;
    } else if (field === 'retry' && /^[0-9]+$/.test(value)) this.retryMs = Number(value);
  }

  #dispatch(out: SSEMessage[]): void {
    this.lastEventId = this.#id;
    const data = this.#data;
    const type = this.#type;
    this.#data = [];
    this.#type = '';
    if (data.length === 0) return;
    out.push({ type: type === '' ? 'message' : type, data: data.join('\n'), lastEventId: this.lastEventId });
  }
}
