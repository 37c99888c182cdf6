import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EventStreamParser, type SSEMessage } from '../../src/sse/client/event-stream-parser.js';
import { parseSSE } from './parse-sse.js';

const encoder = new TextEncoder();

/** Feeds `bytes` split at `cuts` through a streaming UTF-8 decoder, as sseEvents reads a body. */
function parseChunked(bytes: Uint8Array, cuts: number[], lastEventId = ''): SSEMessage[] {
  const parser = new EventStreamParser(lastEventId);
  const decoder = new TextDecoder();
  const out: SSEMessage[] = [];
  let from = 0;
  for (const cut of [...cuts.filter((c) => c > 0 && c < bytes.length).sort((a, b) => a - b), bytes.length]) {
    out.push(...parser.push(decoder.decode(bytes.subarray(from, cut), { stream: true })));
    from = cut;
  }
  return out;
}

const parseWhole = (text: string, lastEventId = '') => new EventStreamParser(lastEventId).push(text);

describe('EventStreamParser (WHATWG "Interpreting an event stream")', () => {
  it('dispatches on a blank line: event type, data lines joined with LF, the id', () => {
    expect(parseWhole('id: 7\nevent: task.created\ndata: {"a":\ndata: 1}\n\n')).toEqual([
      { type: 'task.created', data: '{"a":\n1}', lastEventId: '7' },
    ]);
  });

  it('splits lines on CRLF, LF and CR alike, also when a CRLF is cut between two chunks', () => {
    const parser = new EventStreamParser();
    expect(parser.push('data: a\r')).toEqual([]);
    // The LF completes the CR's line end: not a second (blank) line, so nothing is dispatched yet.
    expect(parser.push('\ndata: b\r')).toEqual([]);
    expect(parser.push('\r')).toEqual([{ type: 'message', data: 'a\nb', lastEventId: '' }]);
    expect(parseWhole('data: x\r\n\r\ndata: y\n\ndata: z\r\r')).toEqual(
      ['x', 'y', 'z'].map((data) => ({ type: 'message', data, lastEventId: '' })),
    );
  });

  it('skips comments, removes one leading space only, and takes a field with no colon as empty', () => {
    expect(parseWhole(': ping\ndata:  two spaces\ndata\nevent:x\n\n')).toEqual([
      { type: 'x', data: ' two spaces\n', lastEventId: '' },
    ]);
  });

  it('ignores an id holding NUL and keeps the previous one; an empty id clears it', () => {
    expect(parseWhole('id: a\ndata: 1\n\nid: b\0c\ndata: 2\n\nid\ndata: 3\n\n')).toEqual([
      { type: 'message', data: '1', lastEventId: 'a' },
      { type: 'message', data: '2', lastEventId: 'a' },
      { type: 'message', data: '3', lastEventId: '' },
    ]);
  });

  it('commits an id without data on its blank line, but not one cut off by the end of the stream', () => {
    const parser = new EventStreamParser('start');
    expect(parser.push('id: 5\n\n')).toEqual([]);
    expect(parser.lastEventId).toBe('5');
    parser.push('id: 6\ndata: cut off');
    parser.reset(); // the connection dropped
    expect(parser.lastEventId).toBe('5');
    // A blank line first on the new connection (after `retry:`) must not clear the resume point.
    expect(parser.push('retry: 10\n\ndata: next\n\n')).toEqual([
      { type: 'message', data: 'next', lastEventId: '5' },
    ]);
  });

  it('takes retry: of ASCII digits only', () => {
    const parser = new EventStreamParser();
    parser.push('retry: 1500\n\nretry: 2e3\n\nretry: -1\n\nretry:\n\nretry: 12 \n\n');
    expect(parser.retryMs).toBe(1500);
  });

  it('drops a leading BOM (through the UTF-8 decoder), and only one', () => {
    const bytes = encoder.encode('\uFEFFdata: a\n\n');
    expect(parseChunked(bytes, [1, 2])).toEqual([{ type: 'message', data: 'a', lastEventId: '' }]);
    // A second BOM is part of the first line's name: `\uFEFFdata` is an unknown field.
    expect(parseChunked(encoder.encode('\uFEFF\uFEFFdata: a\n\n'), [])).toEqual([]);
  });

  // Any text at all, UTF-8 encoded and cut into chunks anywhere (inside a CRLF, inside a
  // multi-byte character): the same messages as the whole text, and the same as the suite's
  // reference parser (test/sse/parse-sse.ts), written separately from the spec.
  const lineEnd = fc.constantFrom('\n', '\r', '\r\n');
  const field = fc.constantFrom('data', 'id', 'event', 'retry', '', 'dat', 'data ');
  const value = fc.string({
    unit: fc.constantFrom('a', ' ', ':', '\0', 'é', '😀', '9', '\r', '\n'),
    maxLength: 6,
  });
  const streamText = fc.oneof(
    fc.string({
      unit: fc.constantFrom('d', 'a', 't', 'i', ':', ' ', '\r', '\n', '\0', 'é', '😀'),
      maxLength: 80,
    }),
    fc
      .array(
        fc.oneof(
          fc.tuple(field, fc.constantFrom(':', ': ', ''), value, lineEnd).map((p) => p.join('')),
          fc.tuple(fc.constant(':'), value, lineEnd).map((p) => p.join('')),
          lineEnd,
        ),
        { maxLength: 30 },
      )
      .map((lines) => lines.join('')),
  );

  it('yields the same messages for any chunking of any stream', () => {
    fc.assert(
      fc.property(
        streamText,
        fc.array(fc.nat({ max: 400 }), { maxLength: 12 }),
        fc.string({ maxLength: 3 }),
        (text, cuts, lastEventId) => {
          const bytes = encoder.encode(text);
          const whole = parseWhole(text, lastEventId);
          expect(parseChunked(bytes, cuts, lastEventId)).toEqual(whole);
          expect(parseChunked(bytes, [...Array(bytes.length).keys()], lastEventId)).toEqual(whole);
          const reference = parseSSE(text, lastEventId).events.map(({ event, data, lastEventId: id }) => ({
            type: event,
            data,
            lastEventId: id,
          }));
          expect(whole).toEqual(reference);
        },
      ),
      { numRuns: 300 },
    );
  });
});
