import { describe, expect, it } from 'vitest';
import { InvalidOptionError, InvalidPatternError } from '../../src/index.js';
import { busesClosedAfterEach } from './support.js';

const newBus = busesClosedAfterEach();

const noop = () => {};

describe('consume options', () => {
  it.each([
    ['no options', undefined],
    ['no group', {}],
    ['an empty group', { group: '' }],
    ['a group that is not a string', { group: 42 }],
    ['a group with a control character', { group: 'a\nb' }],
    ['a group over 256 characters', { group: 'g'.repeat(257) }],
    ['concurrency 0', { group: 'g', concurrency: 0 }],
    ['fractional concurrency', { group: 'g', concurrency: 1.5 }],
    ['concurrency as a string', { group: 'g', concurrency: '2' }],
    ['concurrency over the limit', { group: 'g', concurrency: 10_001 }],
    ['maxDeliveries 0', { group: 'g', maxDeliveries: 0 }],
    ['a negative retryDelayMs', { group: 'g', retryDelayMs: -1 }],
    ['a NaN retryDelayMs', { group: 'g', retryDelayMs: Number.NaN }],
    ['a negative maxRetryDelayMs', { group: 'g', maxRetryDelayMs: -5 }],
    ['ackTimeoutMs 0', { group: 'g', ackTimeoutMs: 0 }],
    ['an ackTimeoutMs setTimeout cannot honour', { group: 'g', ackTimeoutMs: 2 ** 31 }],
    ['from later', { group: 'g', from: 'later' }],
    ['from a cursor', { group: 'g', from: { after: 'x' } }],
  ])('rejects %s with InvalidOptionError', async (_, options) => {
    const bus = newBus();
    const error = await bus.consume('a', noop, options as never).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect((error as InvalidOptionError).code).toBe('INVALID_OPTION');
  });

  it('names the option and the value', async () => {
    const bus = newBus();
    await expect(bus.consume('a', noop, { group: 'g', concurrency: 0 })).rejects.toThrow(
      'Expected `concurrency` to be an integer from 1 to 10000, got 0',
    );
  });

  it('rejects a handler that is not a function and a malformed pattern', async () => {
    const bus = newBus();
    await expect(bus.consume('a', 'nope' as never, { group: 'g' })).rejects.toBeInstanceOf(
      InvalidOptionError,
    );
    await expect(bus.consume('a..b' as never, noop, { group: 'g' })).rejects.toBeInstanceOf(
      InvalidPatternError,
    );
    await expect(bus.consume([], noop, { group: 'g' })).rejects.toBeInstanceOf(InvalidPatternError);
  });

  it('needs a store: with `store: null` consume rejects and deadLetters throws InvalidOptionError', async () => {
    const bus = newBus({ store: null });
    await expect(bus.consume('a', noop, { group: 'g' })).rejects.toThrow(/needs a store/);
    await expect(bus.consume('a', noop, { group: 'g' })).rejects.toBeInstanceOf(InvalidOptionError);
    expect(() => bus.deadLetters('g')).toThrow(InvalidOptionError);
  });

  it('accepts the documented values and starts nothing for a rejected call', async () => {
    const bus = newBus();
    const consumer = await bus.consume('a', noop, {
      group: 'g',
      concurrency: 4,
      maxDeliveries: 1,
      retryDelayMs: 0,
      maxRetryDelayMs: 0,
      ackTimeoutMs: 1,
      from: 'start',
    });
    expect(consumer.stats()).toEqual({
      group: 'g',
      inFlight: 0,
      delivered: 0,
      acked: 0,
      retried: 0,
      deadLettered: 0,
      pending: 0,
    });
    const before = bus.stats().subscriptions;
    await bus.consume('a', noop, { group: 'h', concurrency: -1 }).catch(() => {});
    expect(bus.stats().subscriptions).toBe(before);
  });

  it('checks close and dead-letter arguments', async () => {
    const bus = newBus();
    const consumer = await bus.consume('a', noop, { group: 'g' });
    await expect(consumer.close({ timeoutMs: -1 })).rejects.toBeInstanceOf(InvalidOptionError);
    await expect(bus.deadLetters('g').redrive('id' as never)).rejects.toBeInstanceOf(InvalidOptionError);
    await expect(bus.deadLetters('g').redrive([1] as never)).rejects.toBeInstanceOf(InvalidOptionError);
    expect(() => bus.deadLetters('' as never)).toThrow(InvalidOptionError);
    await consumer.close({ timeoutMs: 0 });
  });
});
