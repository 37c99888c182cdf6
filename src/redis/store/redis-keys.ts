import { InvalidOptionError } from '../../errors.js';
import { describe } from '../../event.js';

/** Longest accepted `prefix`. */
export const MAX_PREFIX_LENGTH = 100;

/**
 * Why `prefix` cannot be used, or `undefined`. Braces are refused because the prefix becomes
 * the Cluster hash tag `{prefix}`; control characters because keys should stay printable.
 */
export function prefixProblem(prefix: unknown): string | undefined {
  if (typeof prefix !== 'string') return `Expected \`prefix\` to be a string, got ${describe(prefix)}`;
  if (prefix.length === 0 || prefix.length > MAX_PREFIX_LENGTH) {
    return `Expected \`prefix\` to have 1 to ${MAX_PREFIX_LENGTH} characters, got ${prefix.length}`;
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  if (/[{}\u0000-\u001f\u007f]/.test(prefix)) {
    return `Expected \`prefix\` without braces or control characters, got ${JSON.stringify(prefix)}`;
  }
  return undefined;
}

/** Stream names whose tokens are remembered: an append encodes one per event, mostly the same few. */
const RECENT_TOKENS = 512;
const recentTokens = new Map<string, string>();

/**
 * A stream name as a key segment: base64url of its UTF-8 bytes. Any name (spaces, `:`, `{}`,
 * quotes, emoji) becomes `[A-Za-z0-9_-]*`, so it can neither break the hash tag nor collide
 * with another key kind, and decoding gives the name back exactly.
 */
export function encodeStreamName(name: string): string {
  let token = recentTokens.get(name);
  if (token === undefined) {
    token = Buffer.from(name, 'utf8').toString('base64url');
    if (recentTokens.size >= RECENT_TOKENS) recentTokens.clear();
    recentTokens.set(name, token);
  }
  return token;
}

export function decodeStreamToken(token: string): string {
  return Buffer.from(token, 'base64url').toString('utf8');
}

/** Tokens read back from entries, with their stream names: a feed meets the same few again and again. */
const recentNames = new Map<string, string>();

/**
 * The stream name of a token read from an entry, or undefined when the token is not the
 * encoding of a name (written by something else: base64url decoding is lenient, so the name
 * is encoded again and must give the token back).
 */
export function streamOfToken(token: string): string | undefined {
  let name = recentNames.get(token);
  if (name === undefined) {
    name = decodeStreamToken(token);
    if (name.length === 0 || encodeStreamName(name) !== token) return undefined;
    if (recentNames.size >= RECENT_TOKENS) recentNames.clear();
    recentNames.set(token, name);
  }
  return name;
}

/**
 * Where one store keeps its data. Every key starts with the hash tag `{prefix}`, so all of
 * them live in one Cluster slot and one Lua script may touch any of them.
 *
 * | key | type | holds |
 * |---|---|---|
 * | `{p}:epoch` | string | the epoch id, created with SET NX by the first writer |
 * | `{p}:log` | stream | every event in append order: one field `p`, the packed entry (log-entry.ts) |
 * | `{p}:s:<token>` | stream | one stream's events, same Redis ids as in the log: the same field `p` |
 * | `{p}:t:<token>` | string | that stream's trim mark: the highest id removed from it |
 * | `{p}:l:<token>` | list | the Redis ids in that stream's key, oldest first (trimming reads them) |
 * | `{p}:trimmed` | string | the log's trim mark |
 * | `{p}:dropped` | string | the highest id of any stream that disappeared entirely |
 * | `{p}:ids` | hash | event id → Redis id, for idempotent appends and `has` |
 * | `{p}:streams` | sorted set | stream token → time of its newest event (ms; of its first without retention), for `stats` |
 */
export class RedisKeys {
  /** `{prefix}:`, the start of every key; scripts build per-stream keys from it. */
  readonly base: string;
  readonly epoch: string;
  readonly log: string;
  readonly logMark: string;
  readonly dropped: string;
  readonly ids: string;
  readonly streams: string;

  constructor(prefix: string) {
    const problem = prefixProblem(prefix);
    if (problem !== undefined) throw new InvalidOptionError(problem);
    this.base = `{${prefix}}:`;
    this.epoch = `${this.base}epoch`;
    this.log = `${this.base}log`;
    this.logMark = `${this.base}trimmed`;
    this.dropped = `${this.base}dropped`;
    this.ids = `${this.base}ids`;
    this.streams = `${this.base}streams`;
  }

  /** The key of one stream's events, from its token (`encodeStreamName`). */
  stream(token: string): string {
    return `${this.base}s:${token}`;
  }

  /** The key of one stream's trim mark, from its token. */
  streamMark(token: string): string {
    return `${this.base}t:${token}`;
  }

  /** The key of the list of Redis ids in one stream's key, from its token. */
  streamIds(token: string): string {
    return `${this.base}l:${token}`;
  }

  /** A SCAN pattern matching every key of this prefix (for tests and manual cleanup). */
  get pattern(): string {
    return `${this.base.replace(/[*?[\]\\]/g, '\\$&')}*`;
  }
}
