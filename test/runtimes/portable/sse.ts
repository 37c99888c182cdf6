import { EventBus, type StoredEvent } from 'busline';
import { formatSSE, sseStream } from 'busline/sse';
import { deepEqual, equal, failsWith, ok, test } from './harness.js';

const stored: StoredEvent = {
  id: 'e1',
  type: 'task.created',
  stream: 'default',
  time: 1_700_000_000_000,
  data: { title: 'line one\nline two' },
  cursor: 'c-0001',
};

/** Frames of an SSE byte stream: `{ id, event, data }` per message, comments and retry left out. */
class FrameReader {
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly #decoder = new TextDecoder();
  #text = '';

  constructor(stream: ReadableStream<Uint8Array>) {
    this.#reader = stream.getReader();
  }

  /** The next `count` messages that carry data. */
  async messages(count: number): Promise<Record<string, string>[]> {
    const out: Record<string, string>[] = [];
    while (out.length < count) {
      const end = this.#text.indexOf('\n\n');
      if (end === -1) {
        const chunk = await this.#reader.read();
        if (chunk.done) throw new Error(`stream ended after ${out.length} of ${count} messages`);
        this.#text += this.#decoder.decode(chunk.value, { stream: true });
        continue;
      }
      const block = this.#text.slice(0, end);
      this.#text = this.#text.slice(end + 2);
      const fields: Record<string, string> = {};
      for (const line of block.split('\n')) {
        const colon = line.indexOf(':');
        if (colon <= 0) continue; // a comment (": ping") or an empty line
        const name = line.slice(0, colon);
        const value = line.slice(colon + 1).replace(/^ /, '');
        fields[name] = name in fields ? `${fields[name]}\n${value}` : value;
      }
      if ('data' in fields) out.push(fields);
    }
    return out;
  }

  cancel(): Promise<void> {
    return this.#reader.cancel();
  }
}

/** Registers this module's tests (suite.ts says why a call, not an import for effect). */
export function sseTests(): void {
  test('sse: formatSSE frames id (the cursor), event (the type) and data (the envelope)', () => {
    const frame = formatSSE(stored);
    ok(frame.endsWith('\n\n'), 'ends with a blank line');
    const lines = frame.slice(0, -2).split('\n');
    equal(lines[0], 'id: c-0001');
    equal(lines[1], 'event: task.created');
    ok(
      lines.slice(2).every((l) => l.startsWith('data: ')),
      `only data lines follow: ${JSON.stringify(lines)}`,
    );
    const data = JSON.parse(
      lines
        .slice(2)
        .map((l) => l.slice(6))
        .join('\n'),
    );
    deepEqual(data, stored);
    ok(!formatSSE(stored, { named: false }).includes('event:'), 'named: false has no event line');
  });

  test('sse: a CR or LF in the cursor or type fails with INVALID_EVENT', async () => {
    await failsWith(() => formatSSE({ ...stored, cursor: 'c\n1' }), 'INVALID_EVENT', 'cursor');
    await failsWith(() => formatSSE({ ...stored, type: 'task\rcreated' }), 'INVALID_EVENT', 'type');
  });

  test('sse: sseStream replays after lastEventId, then streams live events as frames', async () => {
    const bus = new EventBus();
    const first = await bus.publish({ type: 'task.created', data: 1 });
    const second = await bus.publish({ type: 'task.created', data: 2 });
    await bus.publish({ type: 'user.created', data: 'not matched' });
    const frames = new FrameReader(
      sseStream(bus, { pattern: 'task.*', lastEventId: first.cursor!, heartbeatMs: 0 }),
    );
    const [replayed] = await frames.messages(1);
    equal(replayed!.id, second.cursor!, 'replayed frame id is the cursor');
    equal(replayed!.event, 'task.created');
    equal(JSON.parse(replayed!.data!).data, 2);
    const live = await bus.publish({ type: 'task.done', data: 3 });
    const [next] = await frames.messages(1);
    equal(next!.id, live.cursor!);
    const { id, type, data, cursor } = JSON.parse(next!.data!);
    deepEqual({ id, type, data, cursor }, { id: live.id, type: 'task.done', data: 3, cursor: live.cursor });
    await frames.cancel();
    await bus.close();
  });
}
