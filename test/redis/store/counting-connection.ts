// A real node-redis connection that records every command the store sends (never a mock: each
// command still goes to the real Redis), to count XRANGE calls and append scripts, and that can
// refuse chosen commands as if the connection had dropped them.
import {
  CommandNotSentError,
  type NodeRedisClientLike,
  nodeRedisClient,
  type RedisConnection,
  RedisEventStore,
} from '../../../src/redis/index.js';
import { RedisKeys } from '../../../src/redis/store/redis-keys.js';
import { type NodeRedisClient, redisTestFile } from './redis-fixtures.js';

export interface SentCommand {
  args: readonly string[];
  settled: boolean;
}

export interface CountingConnection {
  connection: RedisConnection;
  sent: SentCommand[];
  /** Commands sent so far whose name is `name` (and, if given, whose first key is `key`). */
  count(name: string, key?: string): number;
  /** Commands named `name` sent so far, oldest first. */
  commands(name: string): (readonly string[])[];
  /** Resolves once nothing is in flight and no command followed the last reply for a few turns. */
  quiet(): Promise<void>;
  /** Refuses (CommandNotSentError, nothing reaches Redis) the commands `refuse` returns true for. */
  refuse: ((args: readonly string[]) => boolean) | undefined;
  /** Called with each command just before it is sent. */
  onSend: ((args: readonly string[]) => void) | undefined;
}

export function countingConnection(client: NodeRedisClientLike): CountingConnection {
  const inner = nodeRedisClient(client);
  const sent: SentCommand[] = [];
  const counting: CountingConnection = {
    sent,
    refuse: undefined,
    onSend: undefined,
    connection: {
      send(args, options) {
        counting.onSend?.(args);
        const record: SentCommand = { args, settled: false };
        sent.push(record);
        const reply = counting.refuse?.(args)
          ? Promise.reject(new CommandNotSentError('refused by the test'))
          : inner.send(args, options);
        const settle = (): void => {
          record.settled = true;
        };
        reply.then(settle, settle);
        return reply;
      },
      duplicate: (signal) => inner.duplicate(signal),
      destroy: () => inner.destroy(),
      get isOpen() {
        return inner.isOpen;
      },
    },
    count: (name, key) =>
      sent.filter((c) => c.args[0] === name && (key === undefined || c.args[1] === key)).length,
    commands: (name) => sent.filter((c) => c.args[0] === name).map((c) => c.args),
    async quiet() {
      for (let calm = 0; calm < 5; ) {
        const before = sent.length;
        await new Promise((resolve) => setImmediate(resolve));
        if (sent.some((c) => !c.settled) || sent.length !== before) calm = 0;
        else calm++;
      }
    },
  };
  return counting;
}

/**
 * A test file's counted stores: one shared client, a fresh prefix per store, every command
 * counted; the prefixes are deleted and the client closed after the file. Call it at the top
 * of a test file (it registers the hooks).
 */
export function countedStores(label: string) {
  const redis = redisTestFile(label);
  return {
    get client(): NodeRedisClient {
      return redis.client;
    },
    counted(options: Partial<ConstructorParameters<typeof RedisEventStore>[0]> = {}) {
      const prefix = redis.prefix();
      const client = redis.client;
      const counting = countingConnection(client);
      const store = new RedisEventStore({ client: counting.connection, prefix, ...options });
      return { store, counting, prefix, keys: new RedisKeys(prefix) };
    },
  };
}
