/** One dispatched SSE event, as a browser's EventSource would see it. */
export interface ParsedSSE {
  /** `message` when the frame had no `event:` line. */
  event: string;
  data: string;
  /** The last event id buffer after this event (what a reconnect sends as Last-Event-ID). */
  lastEventId: string;
}

export interface ParsedStream {
  events: ParsedSSE[];
  comments: string[];
  retry: number | undefined;
  /** Text after the last complete line (an incomplete frame). */
  rest: string;
}

/**
 * The parsing rules of the HTML spec's EventSource ("Interpreting an event stream"), so the
 * tests check frames the way a browser reads them, not by string comparison alone.
 */
export function parseSSE(text: string, lastEventId = ''): ParsedStream {
  const out: ParsedStream = { events: [], comments: [], retry: undefined, rest: '' };
  let data: string[] = [];
  let event = '';
  let last = lastEventId;
  let position = 0;
  const lineEnd = /\r\n|\r|\n/g;
  for (let match = lineEnd.exec(text); match !== null; match = lineEnd.exec(text)) {
    const line = text.slice(position, match.index);
    position = match.index + match[0].length;
    if (line === '') {
      if (data.length > 0)
        out.events.push({ event: event || 'message', data: data.join('\n'), lastEventId: last });
      data = [];
      event = '';
      continue;
    }
    if (line.startsWith(':')) {
      out.comments.push(line.slice(1).trimStart());
      continue;
    }
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') data.push(value);
    else if (field === 'event') event = value;
    else if (field === 'id' && !value.includes('\0')) last = value;
    else if (field === 'retry' && /^\d+$/.test(value)) out.retry = Number(value);
  }
  out.rest = text.slice(position);
  return out;
}

/** Collects a byte stream as text and parses it as it grows. */
export class SSECollector {
  text = '';
  readonly #decoder = new TextDecoder();

  push(chunk: Uint8Array | string): void {
    this.text += typeof chunk === 'string' ? chunk : this.#decoder.decode(chunk, { stream: true });
  }

  get parsed(): ParsedStream {
    return parseSSE(this.text);
  }

  /** Bus events (data frames), parsed from their JSON. */
  get busEvents(): { type: string; cursor: string; data: unknown; event: string; lastEventId: string }[] {
    return this.parsed.events
      .filter((e) => !e.event.startsWith('busline.'))
      .map((e) => ({ ...JSON.parse(e.data), event: e.event, lastEventId: e.lastEventId }));
  }

  get notices(): { event: string; body: Record<string, unknown>; lastEventId: string }[] {
    return this.parsed.events
      .filter((e) => e.event.startsWith('busline.'))
      .map((e) => ({ event: e.event, body: JSON.parse(e.data), lastEventId: e.lastEventId }));
  }
}
