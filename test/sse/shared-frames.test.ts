// #18 item 7: an event is framed and encoded once, however many connections stream it.
import { describe, expect, it } from 'vitest';
import { EventBus } from '../../src/index.js';
import { sseStream } from '../../src/sse/index.js';

const options = { pattern: 'job.*', heartbeatMs: 0, drainTimeoutMs: 0 } as const;

describe('SSE frames shared between connections', () => {
  it('hands every connection the same bytes for one event, and they read as that event', async () => {
    const bus = new EventBus({ store: null });
    const a = sseStream(bus, options).getReader();
    const b = sseStream(bus, options).getReader();
    const unnamed = sseStream(bus, { ...options, named: false }).getReader();
    const reads = [a.read(), b.read(), unnamed.read()];
    await bus.publish({ id: 'e1', type: 'job.done', data: { n: 1 } });
    const [ra, rb, ru] = (await Promise.all(reads)) as [
      ReadableStreamReadResult<Uint8Array>,
      ReadableStreamReadResult<Uint8Array>,
      ReadableStreamReadResult<Uint8Array>,
    ];
    expect(ra.value).toBe(rb.value); // one array, not two equal ones
    expect(ru.value).not.toBe(ra.value); // another framing: its own bytes
    const text = new TextDecoder().decode(ra.value);
    expect(text).toBe(
      `id: e1\nevent: job.done\ndata: ${JSON.stringify({ id: 'e1', type: 'job.done', stream: 'default', time: JSON.parse(text.split('data: ')[1]!).time, data: { n: 1 }, cursor: 'e1' })}\n\n`,
    );
    expect(new TextDecoder().decode(ru.value)).not.toContain('event:');
    for (const reader of [a, b, unnamed]) await reader.cancel();
    await bus.close();
  });

  it('a chunk of several frames is a copy: the shared frames stay as they were', async () => {
    const bus = new EventBus({ store: null });
    const fast = sseStream(bus, options).getReader();
    const batched = sseStream(bus, options).getReader();
    const first = fast.read();
    await bus.publish({ id: 'x', type: 'job.a', data: 1 });
    const shared = (await first).value!; // one frame: the shared bytes
    await bus.publish({ id: 'y', type: 'job.b', data: 2 });
    const both = (await batched.read()).value!; // x and y were buffered: one chunk of two frames
    const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
    const frameX = decode(shared);
    expect(decode(both).startsWith(frameX)).toBe(true);
    expect(decode(both)).toContain('id: y');
    both.fill(0); // a consumer that scribbles on its chunk harms no one else
    expect(decode(shared)).toBe(frameX);
    for (const reader of [fast, batched]) await reader.cancel();
    await bus.close();
  });
});
