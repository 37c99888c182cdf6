import { afterEach, describe, expect, it, vi } from 'vitest';
import { createErrorLogger } from '../../src/bus/error-logger.js';
import type { ErrorContext } from '../../src/bus/options.js';
import {
  ERROR_LOG_DEFAULTS,
  EventBus,
  createErrorLogger as exported,
  StoreUnavailableError,
} from '../../src/index.js';

/** A logger writing into an array, on a clock the test moves. */
function recordingLogger(options: { maxDistinct?: number; summaryIntervalMs?: number } = {}) {
  const lines: string[] = [];
  let now = 1_000_000;
  const log = createErrorLogger({ ...options, write: (line) => lines.push(line), clock: () => now });
  return {
    lines,
    log,
    advance(ms: number) {
      now += ms;
    },
  };
}

const feed: ErrorContext = { source: 'feed', patterns: [] };
const unreachable = () =>
  new StoreUnavailableError('Redis XREVRANGE was not sent: The client is offline', {
    cause: new Error('The client is offline'),
  });

describe('the default onError logger', () => {
  it('prints a failure once, on one line, with its name, code and message', () => {
    const { lines, log } = recordingLogger();
    log(unreachable(), feed);
    expect(lines).toEqual([
      '[busline] feed failed: StoreUnavailableError [STORE_UNAVAILABLE]: Redis XREVRANGE was not sent: The client is offline',
    ]);
  });

  it('adds the causes that say something the message does not', () => {
    const { lines, log } = recordingLogger();
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6390'), { code: 'ECONNREFUSED' });
    log(new StoreUnavailableError('Redis EVALSHA failed', { cause: refused }), feed);
    expect(lines).toEqual([
      '[busline] feed failed: StoreUnavailableError [STORE_UNAVAILABLE]: Redis EVALSHA failed (cause: Error [ECONNREFUSED]: connect ECONNREFUSED 127.0.0.1:6390)',
    ]);
  });

  it('counts repeats instead of printing them, and prints the count when another failure of the source comes', () => {
    const { lines, log, advance } = recordingLogger();
    for (let i = 0; i < 21; i++) {
      log(unreachable(), feed);
      advance(250);
    }
    expect(lines).toHaveLength(1);
    log(new StoreUnavailableError('Redis XREAD failed: Connection reset'), feed);
    expect(lines.slice(1)).toEqual([
      '[busline] feed failed: StoreUnavailableError [STORE_UNAVAILABLE]: Redis XREVRANGE was not sent: The client is offline (repeated 20 more times in 5 s)',
      '[busline] feed failed: StoreUnavailableError [STORE_UNAVAILABLE]: Redis XREAD failed: Connection reset',
    ]);
  });

  it('summarises a failure that keeps repeating at most once per interval', () => {
    const { lines, log, advance } = recordingLogger({ summaryIntervalMs: 60_000 });
    for (let i = 0; i < 4 * 60 * 4; i++) {
      log(unreachable(), feed); // every 250 ms for 4 minutes
      advance(250);
    }
    expect(lines).toHaveLength(1 + 3);
    expect(lines[1]).toMatch(/\(repeated 240 more times in 60 s\)$/);
  });

  it('keeps failures of different subscriptions apart', () => {
    const { lines, log } = recordingLogger();
    const error = new Error('boom');
    log(error, { source: 'handler', patterns: ['task.*'] });
    log(error, { source: 'handler', patterns: ['job.*'] });
    log(error, { source: 'handler', patterns: ['task.*'] });
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^\[busline\] handler of task\.\* failed: Error: boom \(at /);
    expect(lines[1]).toMatch(/^\[busline\] handler of job\.\* failed: Error: boom \(at /);
  });

  it('names where user code threw, not its whole stack', () => {
    const { lines, log } = recordingLogger();
    function brokenHandler(): never {
      throw new TypeError('Cannot read properties of undefined');
    }
    try {
      brokenHandler();
    } catch (error) {
      log(error, { source: 'handler', patterns: ['task.*'], event: { type: 'task.created' } as never });
    }
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^\[busline\] handler of task\.\* failed delivering "task\.created": TypeError: Cannot read properties of undefined \(at brokenHandler \(.*error-logger\.test\.ts:\d+:\d+\)\)$/,
    );
  });

  it('prints values that are not errors', () => {
    const { lines, log } = recordingLogger();
    log('plain string', { source: 'filter', patterns: ['a'] });
    log({ reason: 'nope' }, { source: 'filter', patterns: ['a'] });
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    log(cyclic, { source: 'filter', patterns: ['a'] });
    expect(lines).toEqual([
      '[busline] filter of a failed: plain string',
      '[busline] filter of a failed: {"reason":"nope"}',
      '[busline] filter of a failed: [object Object]',
    ]);
  });

  it('remembers a bounded number of failures: the least recently seen is forgotten, its count printed', () => {
    const { lines, log } = recordingLogger({ maxDistinct: 3 });
    const failure = (n: number) => new StoreUnavailableError(`failure ${n}`);
    log(failure(0), feed);
    log(failure(0), feed); // a repeat, counted
    for (let n = 1; n <= 3; n++) log(failure(n), { source: 'handler', patterns: ['x'] });
    expect(lines.filter((line) => line.includes('failure 0'))).toEqual([
      '[busline] feed failed: StoreUnavailableError [STORE_UNAVAILABLE]: failure 0',
      '[busline] feed failed: StoreUnavailableError [STORE_UNAVAILABLE]: failure 0 (repeated once more in 0 s)',
    ]);
    log(failure(0), feed); // forgotten: printed as new
    expect(lines.at(-1)).toBe('[busline] feed failed: StoreUnavailableError [STORE_UNAVAILABLE]: failure 0');
  });

  it('clips a very long message to one bounded line', () => {
    const { lines, log } = recordingLogger();
    log(new Error('x'.repeat(10_000)), feed);
    expect(lines[0]!.length).toBeLessThanOrEqual(1000);
    expect(lines[0]).not.toContain('\n');
  });
});

describe('a bus without onError', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('logs a handler that fails on every event once, on one line, not a stack trace per event', async () => {
    const printed = vi.spyOn(console, 'error').mockImplementation(() => {});
    const bus = new EventBus();
    bus.on('task.*', () => {
      throw new Error('handler bug');
    });
    for (let i = 0; i < 20; i++) await bus.publish({ type: 'task.created', data: i });
    await bus.close();
    expect(printed).toHaveBeenCalledTimes(1);
    expect(printed.mock.calls[0]).toEqual([
      expect.stringMatching(
        /^\[busline\] handler of task\.\* failed delivering "task\.created": Error: handler bug \(at /,
      ),
    ]);
  });
});

describe('createErrorLogger from the public entry', () => {
  it('keeps the default logging when an onError of your own wraps it', async () => {
    const lines: string[] = [];
    const counted: string[] = [];
    const log = exported({ write: (line) => lines.push(line) });
    const bus = new EventBus({
      onError: (error, context) => {
        counted.push(context.source);
        log(error, context);
      },
    });
    bus.on('job.*', () => {
      throw new Error('handler broke');
    });
    await bus.publish({ type: 'job.run', data: 1 });
    await bus.publish({ type: 'job.run', data: 2 });
    await bus.close();
    expect(counted).toEqual(['handler', 'handler']);
    // Once, on one line: the repeat is counted, not printed.
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('handler of job.* failed delivering "job.run": Error: handler broke');
    expect(ERROR_LOG_DEFAULTS.maxDistinct).toBeGreaterThan(0);
  });
});
