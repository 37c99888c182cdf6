import { describe, expect, it } from 'vitest';
import { EventBus, EventTooLargeError, type StoredEvent } from '../../src/index.js';
import { formatComment, formatMessage, formatNotice, formatRetry } from '../../src/sse/format-sse.js';
import { formatSSE, SSE_EVENTS, sseStream } from '../../src/sse/index.js';
import { parseSSE } from './parse-sse.js';

const stored = (overrides: Partial<StoredEvent> = {}): StoredEvent => ({
  id: '0192f0a0-0000-7000-8000-000000000001',
  type: 'task.created',
  stream: 'default',
  time: 1_700_000_000_000,
  data: { title: 'Write the docs' },
  cursor: 'a1b2c3d4e5-0000000000000007',
  ...overrides,
});

describe('formatSSE', () => {
  it('frames one message: id is the cursor, event the type, data the envelope as JSON, then a blank line', () => {
    const event = stored({ meta: { role: 'admin' } });
    expect(formatSSE(event)).toBe(
      'id: a1b2c3d4e5-0000000000000007\n' +
        'event: task.created\n' +
        `data: ${JSON.stringify({
          id: event.id,
          type: 'task.created',
          stream: 'default',
          time: 1_700_000_000_000,
          data: { title: 'Write the docs' },
          meta: { role: 'admin' },
          cursor: event.cursor,
        })}\n` +
        '\n',
    );
  });

  it('reads back, through the EventSource parsing rules, as the same event with the cursor as last id', () => {
    const event = stored({ data: { text: 'line 1\nline 2\r\nline 3\r \u2028 \u0000 "quoted"', n: [1, 2] } });
    const [parsed, ...others] = parseSSE(formatSSE(event)).events;
    expect(others).toEqual([]);
    expect(parsed!.event).toBe('task.created');
    expect(parsed!.lastEventId).toBe(event.cursor);
    expect(JSON.parse(parsed!.data)).toEqual(event);
  });

  it('keeps data with line breaks on one data line: JSON escapes them', () => {
    const frame = formatSSE(stored({ data: 'a\nb\rc\r\nd' }));
    expect(frame.match(/^data: /gm)).toHaveLength(1);
    expect(frame.split('\n')).toHaveLength(5); // id, event, data, blank, and the empty tail
  });

  it('leaves out the event line with named: false, so the browser dispatches it as "message"', () => {
    const frame = formatSSE(stored(), { named: false });
    expect(frame).not.toContain('event:');
    expect(parseSSE(frame).events[0]!.event).toBe('message');
  });

  it('rejects a cursor or type holding CR, LF or NUL with INVALID_EVENT instead of altering it', () => {
    for (const bad of ['a\nb', 'a\rb', 'a\0b']) {
      expect(() => formatSSE(stored({ cursor: bad }))).toThrow(
        expect.objectContaining({ code: 'INVALID_EVENT' }),
      );
      expect(() => formatSSE(stored({ type: bad }))).toThrow(/without CR, LF or NUL/);
    }
    expect(() => formatSSE(stored({ cursor: '' }))).toThrow(
      expect.objectContaining({ code: 'INVALID_EVENT' }),
    );
  });
});

describe('SSE message framing', () => {
  it('writes one data line per line of a multi-line payload, for LF, CRLF and CR alike', () => {
    const frame = formatMessage({ id: '7', event: 'note', data: 'first\nsecond\r\nthird\rfourth' });
    expect(frame).toBe('id: 7\nevent: note\ndata: first\ndata: second\ndata: third\ndata: fourth\n\n');
    expect(parseSSE(frame).events).toEqual([
      { event: 'note', data: 'first\nsecond\nthird\nfourth', lastEventId: '7' },
    ]);
  });

  it('keeps empty lines of the payload, and an empty payload, as data lines', () => {
    expect(formatMessage({ data: 'a\n\nb' })).toBe('data: a\ndata: \ndata: b\n\n');
    expect(parseSSE(formatMessage({ data: '' })).events).toEqual([
      { event: 'message', data: '', lastEventId: '' },
    ]);
    expect(parseSSE(formatMessage({ data: 'a\n' })).events[0]!.data).toBe('a\n');
  });

  it('sends notices without an id, so the browser keeps its last event id, unless asked to clear it', () => {
    const kept = parseSSE(formatNotice(SSE_EVENTS.historyTruncated, { after: 'x' }), 'c-1').events[0]!;
    expect(kept).toEqual({ event: 'busline.history_truncated', data: '{"after":"x"}', lastEventId: 'c-1' });
    const cleared = parseSSE(formatNotice(SSE_EVENTS.error, { code: 'X' }, true), 'c-1').events[0]!;
    expect(cleared.lastEventId).toBe('');
  });

  it('writes comments on one line and retry as a field', () => {
    expect(formatComment('ping')).toBe(': ping\n\n');
    expect(formatComment('a\r\nb')).toBe(': a b\n\n');
    expect(parseSSE(formatRetry(1500))).toMatchObject({ retry: 1500, events: [], comments: [] });
  });
});

describe('the bytes measured are the bytes written (security review #10)', () => {
  it('refuses to frame an event that grew past maxEventBytes after it was published', async () => {
    const bus = new EventBus({ maxEventBytes: 1024 });
    const data = { items: [] as string[] };
    await bus.publish({ type: 'x', data });
    for (let i = 0; i < 1000; i++) data.items.push('mutated-after-publish'); // the caller keeps a reference
    const sub = bus.subscribe('x', { from: 'start' });
    const event = (await sub.next()).value!;
    expect(() => formatSSE(event, { maxEventBytes: 1024 })).toThrow(EventTooLargeError);
    expect(formatSSE(event).length).toBeGreaterThan(20_000); // without the bound it would go out
    let calls = 0;
    const liar = { toJSON: () => (++calls === 1 ? 'small' : 'A'.repeat(5000)) };
    await bus.publish({ type: 'y', data: liar });
    const lied = (await bus.subscribe('y', { from: 'start' }).next()).value!;
    expect(() => formatSSE(lied, { maxEventBytes: 1024 })).toThrow(EventTooLargeError);
    expect(formatSSE({ ...lied, data: 'é'.repeat(300) }, { maxEventBytes: 1024 })).toContain('é'); // 600 bytes + envelope
    await bus.close();
  });

  it('sseStream sends a busline.error naming the cursor in its place, and goes on', async () => {
    const bus = new EventBus({ maxEventBytes: 1024 });
    const stream = sseStream(bus, { pattern: 'x', heartbeatMs: 0 });
    const data = { items: [] as string[] };
    const first = await bus.publish({ type: 'x', data });
    for (let i = 0; i < 1000; i++) data.items.push('mutated-after-publish'); // before the client reads it
    await bus.publish({ type: 'x', data: 'fine' });
    const text = await readUntilText(stream.getReader(), 'fine');
    expect(text).toContain('event: busline.error');
    expect(text).toContain(`"cursor":"${first.cursor}"`);
    expect(text).toContain(`id: ${first.cursor}`);
    expect(text).not.toContain('mutated-after-publish');
    await bus.close();
  });
});

async function readUntilText(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  needle: string,
): Promise<string> {
  const decoder = new TextDecoder();
  let text = '';
  while (!text.includes(needle)) {
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
  }
  await reader.cancel();
  return text;
}
