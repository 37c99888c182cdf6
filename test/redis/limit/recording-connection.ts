// A real node-redis connection that records what the limiter sends, to count its script calls
// and to wait for its replies (never a fixed sleep).
import {
  type NodeRedisClientLike,
  nodeRedisClient,
  type RedisConnection,
  type RedisReply,
} from '../../../src/redis/index.js';
import { TOKEN_BUCKET, TOKEN_BUCKET_GIVE_BACK } from '../../../src/redis/limit/token-bucket-script.js';

export interface RecordedCall {
  /** Which limiter script it ran ('other' for anything else). */
  script: 'take' | 'give-back' | 'other';
  args: readonly string[];
  reply: Promise<RedisReply>;
  /** The reply once it came; undefined while in flight or if the call failed. */
  value?: RedisReply;
  failed?: boolean;
}

export interface RecordingConnection {
  connection: RedisConnection;
  calls: RecordedCall[];
  /** Script calls that ran (an EVALSHA answered NOSCRIPT, then retried as EVAL, counts once). */
  scriptCalls(script: RecordedCall['script']): RecordedCall[];
  /** Resolves once no call is in flight and none followed the last reply. */
  idle(): Promise<void>;
}

/**
 * @param beforeSend runs just before each command is sent, and may send commands of its own on
 * `client` first (same connection, so Redis runs them first): another process, played in order.
 */
export function recordingConnection(
  client: NodeRedisClientLike,
  beforeSend?: (args: readonly string[]) => void,
): RecordingConnection {
  const inner = nodeRedisClient(client);
  const calls: RecordedCall[] = [];
  const connection: RedisConnection = {
    send(args, options) {
      beforeSend?.(args);
      const reply = inner.send(args, options);
      const call: RecordedCall = { script: scriptOf(args), args, reply };
      reply.then(
        (value) => {
          call.value = value;
        },
        () => {
          call.failed = true;
        },
      );
      calls.push(call);
      return reply;
    },
    duplicate: (signal) => inner.duplicate(signal),
    destroy: () => inner.destroy(),
    get isOpen() {
      return inner.isOpen;
    },
  };
  return {
    connection,
    calls,
    scriptCalls: (script) => calls.filter((call) => call.script === script && call.failed !== true),
    async idle() {
      for (;;) {
        const count = calls.length;
        await Promise.allSettled(calls.map((call) => call.reply));
        // Let the limiter act on the replies (promise callbacks run before the next turn).
        await new Promise((resolve) => setImmediate(resolve));
        if (calls.length === count) return;
      }
    },
  };
}

export function scriptOf(args: readonly string[]): RecordedCall['script'] {
  const [command, body] = args;
  if (command === 'EVALSHA' && body === TOKEN_BUCKET.sha) return 'take';
  if (command === 'EVAL' && body === TOKEN_BUCKET.source) return 'take';
  if (command === 'EVALSHA' && body === TOKEN_BUCKET_GIVE_BACK.sha) return 'give-back';
  if (command === 'EVAL' && body === TOKEN_BUCKET_GIVE_BACK.source) return 'give-back';
  return 'other';
}
