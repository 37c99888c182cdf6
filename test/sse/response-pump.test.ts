import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type PumpOutcome, pumpToResponse } from '../../src/sse/response-pump.js';

afterEach(() => {
  vi.useRealTimers();
});

/** A response whose socket takes nothing: write() says false (or true, for `roomy`), and no 'drain' or 'finish' comes unless the test emits it. */
class FakeResponse extends EventEmitter {
  written: string[] = [];
  destroyed = false;
  writableEnded = false;
  writableFinished = false;
  constructor(readonly roomy = false) {
    super();
  }
  write(chunk: Uint8Array): boolean {
    this.written.push(new TextDecoder().decode(chunk));
    return this.roomy;
  }
  end(): void {
    this.writableEnded = true;
  }
}

function source(chunks: string[]): ReadableStreamDefaultReader<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      const next = chunks.shift();
      if (next === undefined) controller.close();
      else controller.enqueue(encoder.encode(next));
    },
  }).getReader();
}

function pump(res: FakeResponse, chunks: string[], drainTimeoutMs: number) {
  let outcome: PumpOutcome | undefined;
  const done = pumpToResponse(source(chunks), res as unknown as ServerResponse, drainTimeoutMs).then(
    (value) => (outcome = value),
  );
  return { done, outcome: () => outcome };
}

describe('pumpToResponse', () => {
  it('waits for drain before the next chunk, and reports a client that has not drained within the bound', async () => {
    vi.useFakeTimers();
    const res = new FakeResponse();
    const run = pump(res, ['a', 'b', 'c'], 100);
    await vi.advanceTimersByTimeAsync(99);
    expect(res.written).toEqual(['a']);
    res.emit('drain');
    await vi.advanceTimersByTimeAsync(99);
    expect(res.written).toEqual(['a', 'b']);
    expect(run.outcome()).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    // At the deadline it gives pending I/O one more loop turn (a setImmediate) before giving up.
    expect(run.outcome()).toBeUndefined();
    await vi.advanceTimersToNextTimerAsync();
    await run.done;
    expect(run.outcome()).toBe('stalled');
    expect(res.written).toEqual(['a', 'b']);
    expect(res.listenerCount('drain') + res.listenerCount('close')).toBe(0);
  });

  it('reports a client that does not take the last bytes once the stream ended', async () => {
    vi.useFakeTimers();
    const res = new FakeResponse(true);
    const run = pump(res, ['a'], 100);
    await vi.advanceTimersByTimeAsync(100);
    await vi.advanceTimersToNextTimerAsync();
    await run.done;
    expect(res.writableEnded).toBe(true);
    expect(run.outcome()).toBe('stalled');
  });

  it('does not give up on a client whose drain was due when the deadline came', async () => {
    vi.useFakeTimers();
    const res = new FakeResponse();
    const run = pump(res, ['a', 'b'], 100);
    await vi.advanceTimersByTimeAsync(100);
    res.emit('drain'); // I/O that was waiting behind the timers
    await vi.advanceTimersToNextTimerAsync();
    expect(res.written).toEqual(['a', 'b']);
    expect(run.outcome()).toBeUndefined();
  });

  it('ends when the stream ends and the client took everything, or when the connection closes', async () => {
    vi.useFakeTimers();
    const finishing = new FakeResponse(true);
    const finished = pump(finishing, ['a', 'b'], 100);
    await vi.advanceTimersByTimeAsync(50);
    finishing.emit('finish');
    await finished.done;
    expect(finished.outcome()).toBe('ended');
    const closing = new FakeResponse();
    const closed = pump(closing, ['a', 'b'], 100);
    await vi.advanceTimersByTimeAsync(50);
    closing.destroyed = true;
    closing.emit('close');
    await closed.done;
    expect(closed.outcome()).toBe('ended');
  });

  it('waits for drain without limit with drainTimeoutMs 0', async () => {
    vi.useFakeTimers();
    const res = new FakeResponse();
    const run = pump(res, ['a', 'b'], 0);
    await vi.advanceTimersByTimeAsync(3_600_000);
    expect(run.outcome()).toBeUndefined();
    expect(vi.getTimerCount()).toBe(0);
    res.emit('drain');
    await vi.advanceTimersByTimeAsync(0);
    expect(res.written).toEqual(['a', 'b']);
  });
});
