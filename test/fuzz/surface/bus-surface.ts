// EventBus: the constructor and every method, each argument and option fuzzed (see input-fuzz.ts).
import fc from 'fast-check';
import { EventBus, MemoryEventStore } from '../../../src/index.js';
import { anyValue, hostileString, soon } from '../hostile.js';
import { fuzzInputs, type SurfaceCase } from './input-fuzz.js';

const quiet = { onError: () => {} };
const event = { type: 'a.b', data: 1 };
/** An envelope with every field hostile (and some left out). */
const hostileEvent = fc.record(
  { id: anyValue, type: anyValue, stream: anyValue, time: anyValue, data: anyValue, meta: anyValue },
  { requiredKeys: [] },
);
const eventArg = fc.oneof(anyValue, hostileEvent);
const startFrom = fc.oneof(anyValue, fc.record({ after: anyValue }), fc.record({ since: anyValue }));
/** Names a message may use for a part of an options object given whole. */
const SELECT = ['options', 'stream', 'filter', 'signal'];
const FIELDS = ['event', 'id', 'type', 'stream', 'time', 'data', 'meta'];

/** A bus with a stored event, for the methods that read; closed once the case is done. */
async function withBus(test: (bus: EventBus) => Promise<void>): Promise<void> {
  const bus = new EventBus(quiet);
  await bus.publish({ type: 'a.b', stream: 's', data: 1 });
  try {
    await test(bus);
  } finally {
    await bus.close({ timeoutMs: 100 });
  }
}

const fuzzEventBus = {
  constructor: async () => {
    let made: EventBus | undefined;
    const bus = (options: unknown): Promise<unknown> => {
      made = new EventBus(options as never);
      // A bus that was made works: whatever it accepted breaks nothing later.
      return made.publish({ type: 'a.b', data: 1 }).then(() => made!.stats());
    };
    const after = async () => {
      await made?.close({ timeoutMs: 100 });
      made = undefined;
    };
    await fuzzInputs({ inputs: ['options'], call: (v) => bus(v.options), after });
    await fuzzInputs({
      inputs: [
        'store',
        'dedup',
        'rateLimit',
        'rateLimitKey',
        'schemas',
        'maxEventBytes',
        'onError',
        'clock',
        'matchCacheSize',
        'maxConcurrentReads',
        'feedTimeoutMs',
      ],
      valid: quiet,
      // The check publish may be larger than a small (valid) maxEventBytes.
      outcomes: ['EVENT_TOO_LARGE'],
      aliases: {
        dedup: ['windowMs', 'expectedEvents', 'falsePositiveRate', 'clock'],
        rateLimit: ['rate', 'intervalMs', 'burst', 'onLimit', 'maxKeys', 'maxWaiting', 'clock'],
      },
      call: (v) => bus(v),
      after,
    });
  },
  publish: () =>
    withBus(async (bus) => {
      await fuzzInputs({
        inputs: ['event', 'options'],
        valid: { event },
        arbitraries: { event: eventArg },
        aliases: { event: FIELDS, options: ['signal'] },
        call: (v) => bus.publish(v.event as never, v.options as never),
      });
      await fuzzInputs({
        inputs: ['id', 'type', 'stream', 'time', 'data', 'meta'],
        valid: event,
        call: (v) => bus.publish(v as never),
      });
      await fuzzInputs({ inputs: ['signal'], call: (v) => bus.publish(event, v) });
    }),
  publishBatch: () =>
    withBus(async (bus) => {
      await fuzzInputs({
        inputs: ['events', 'options'],
        valid: { events: [event] },
        arbitraries: { events: fc.oneof(anyValue, fc.array(eventArg, { maxLength: 4 })) },
        aliases: { options: ['signal'] },
        call: (v) => bus.publishBatch(v.events as never, v.options as never),
      });
      await fuzzInputs({ inputs: ['signal'], call: (v) => bus.publishBatch([event], v) });
    }),
  on: () =>
    withBus(async (bus) => {
      await fuzzInputs({
        inputs: ['pattern', 'handler', 'options'],
        valid: { pattern: 'a.*', handler: () => {} },
        patternInputs: ['pattern'],
        aliases: { options: [...SELECT, 'concurrency', 'maxPending'] },
        call: (v) => bus.on(v.pattern as never, v.handler as never, v.options as never)(),
      });
      await fuzzInputs({
        inputs: ['stream', 'filter', 'signal', 'concurrency', 'maxPending'],
        call: (v) => bus.on('a.*', async () => {}, v)(),
      });
    }),
  once: () =>
    withBus(async (bus) => {
      // Waiting for an event is what once does: pending is fine, close() ends the waits.
      const once = { mayPend: true, waitMs: 5 };
      await fuzzInputs({
        ...once,
        inputs: ['pattern', 'options'],
        valid: { pattern: 'a.*' },
        patternInputs: ['pattern'],
        aliases: { options: [...SELECT, 'timeoutMs'] },
        call: (v) => bus.once(v.pattern as never, v.options as never),
      });
      await fuzzInputs({
        ...once,
        inputs: ['stream', 'filter', 'signal', 'timeoutMs'],
        call: (v) => bus.once('a.*', v),
      });
    }),
  subscribe: () =>
    withBus(async (bus) => {
      const iterate = async (pattern: unknown, options: unknown) => {
        const sub = bus.subscribe(pattern as never, options as never);
        try {
          // A forged cursor ends in a typed error or events, never a hang.
          await soon(sub.next());
          sub.stats();
          sub.close();
        } finally {
          await sub.return();
          await sub[Symbol.asyncDispose]();
        }
      };
      await fuzzInputs({
        inputs: ['pattern', 'options'],
        valid: { pattern: 'a.*' },
        patternInputs: ['pattern'],
        aliases: { options: [...SELECT, 'from', 'after', 'since', 'bufferSize', 'overflow', 'onTruncated'] },
        call: (v) => iterate(v.pattern, v.options),
      });
      await fuzzInputs({
        inputs: ['stream', 'filter', 'signal', 'from', 'bufferSize', 'overflow', 'onTruncated'],
        arbitraries: { from: startFrom },
        aliases: { from: ['after', 'since'] },
        call: (v) => iterate('**', v),
      });
    }),
  consume: () =>
    withBus(async (bus) => {
      // A group's patterns are fixed when it is made: each run gets a group of its own.
      let groups = 0;
      const fresh = {
        get group() {
          return `g${++groups}`;
        },
      };
      const consumeOnce = async (pattern: unknown, handler: unknown, options: unknown) => {
        const consumer = await bus.consume(pattern as never, handler as never, options as never);
        consumer.stats();
        await consumer.close();
      };
      await fuzzInputs({
        inputs: ['pattern', 'handler', 'options'],
        valid: { pattern: 'a.*', handler: () => {}, options: fresh },
        patternInputs: ['pattern'],
        aliases: { options: ['group', 'from', 'concurrency'] },
        call: (v) => consumeOnce(v.pattern, v.handler, v.options),
      });
      await fuzzInputs({
        inputs: [
          'group',
          'concurrency',
          'maxDeliveries',
          'retryDelayMs',
          'maxRetryDelayMs',
          'ackTimeoutMs',
          'from',
        ],
        valid: { group: 'fixed' },
        call: (v) => consumeOnce('a.*', () => {}, v),
      });
      // Consumer.close({ timeoutMs }) and Consumer.stats().
      await fuzzInputs({
        inputs: ['options', 'timeoutMs'],
        call: async (v) => {
          const consumer = await bus.consume('a.*', () => {}, { group: 'fixed' });
          try {
            consumer.stats();
            await consumer.close((v.options ?? { timeoutMs: v.timeoutMs }) as never);
          } finally {
            await consumer.close();
          }
        },
      });
    }),
  deadLetters: () =>
    withBus(async (bus) => {
      await fuzzInputs({
        inputs: ['group', 'ids'],
        valid: { group: 'g' },
        arbitraries: { ids: fc.oneof(anyValue, fc.array(hostileString, { maxLength: 3 })) },
        call: async (v) => {
          const letters = bus.deadLetters(v.group as never);
          await letters.list();
          return letters.redrive(v.ids as never);
        },
      });
    }),
  readyStatsDrain: () =>
    withBus(async (bus) => {
      await fuzzInputs({ inputs: ['options'], call: (v) => bus.ready(v.options as never) });
      await fuzzInputs({ inputs: ['signal', 'timeoutMs'], call: (v) => bus.ready(v) });
      // No parameters: anything passed is ignored.
      await fuzzInputs({
        inputs: ['ignored'],
        call: async (v) => {
          Reflect.apply(bus.stats, bus, [v.ignored]);
          await Reflect.apply(bus.storeStats, bus, [v.ignored]);
          await Reflect.apply(bus.drain, bus, [v.ignored]);
        },
      });
    }),
  close: async () => {
    const closeOne = (options: unknown) => {
      const bus = new EventBus({ ...quiet, store: new MemoryEventStore() });
      return bus.close(options as never).then(() => bus[Symbol.asyncDispose]());
    };
    await fuzzInputs({
      inputs: ['options'],
      aliases: { options: ['timeoutMs'] },
      call: (v) => closeOne(v.options),
    });
    await fuzzInputs({ inputs: ['timeoutMs'], call: (v) => closeOne(v) });
  },
};

export const eventBusCase: SurfaceCase = { fuzz: fuzzEventBus };
