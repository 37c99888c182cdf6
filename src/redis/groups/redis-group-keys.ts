import { encodeStreamName, type RedisKeys } from '../store/redis-keys.js';

/**
 * The keys of one consumer group, beside the store's (same `{prefix}` hash tag, so every group
 * script may touch the log too). The Redis consumer group itself lives on the store's log
 * (`{p}:log`) and on `again`, under the group's name.
 *
 * | key | type | holds |
 * |---|---|---|
 * | `{p}:g:<token>` | hash | `types` (the patterns, JSON), `last` (last log id read), XAUTOCLAIM scan cursors |
 * | `{p}:g:<token>:again` | stream | redeliveries: retries that fell due and redriven dead letters |
 * | `{p}:g:<token>:delayed` | sorted set | retries waiting for their backoff, scored by when they are due |
 * | `{p}:g:<token>:dead` | stream | dead letters, oldest first |
 *
 * `<token>` is the group name in base64url, like stream names (`encodeStreamName`).
 */
export class RedisGroupKeys {
  readonly epoch: string;
  readonly log: string;
  readonly logMark: string;
  readonly group: string;
  readonly again: string;
  readonly delayed: string;
  readonly dead: string;

  constructor(keys: RedisKeys, name: string) {
    this.epoch = keys.epoch;
    this.log = keys.log;
    this.logMark = keys.logMark;
    this.group = `${keys.base}g:${encodeStreamName(name)}`;
    this.again = `${this.group}:again`;
    this.delayed = `${this.group}:delayed`;
    this.dead = `${this.group}:dead`;
  }
}
