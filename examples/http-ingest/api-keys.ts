/**
 * The ingest server's API keys and the identity each one stands for. The key id, not any
 * field of the body, is what the server trusts: it namespaces event ids, keys the rate
 * limit and goes into `meta.key_id`.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Either named keys (`{ 'bridge-a': '<secret>' }`, recommended: the name is the public id) or a
 * plain list of secrets, whose ids are derived from them (`k` + 12 hex digits of SHA-256). The
 * id is public (it is in every event id), so a derived id is only as safe as the key is long and
 * random: use 32+ random characters, or names.
 */
export type ApiKeys = readonly string[] | Readonly<Record<string, string>>;

/** A key id becomes the prefix of event ids (`<id>:<client id>`), so it cannot contain `:`. */
const KEY_ID = /^[A-Za-z0-9_.-]{1,64}$/;

export class ApiKeyRing {
  readonly #keys: { id: string; digest: Buffer }[];

  constructor(keys: ApiKeys) {
    const entries = Array.isArray(keys)
      ? (keys as readonly string[]).map((key) => [derivedId(key), key] as const)
      : Object.entries(keys);
    if (entries.length === 0) throw new Error('Expected at least one API key');
    const seen = new Set<string>();
    this.#keys = entries.map(([id, key]) => {
      if (!KEY_ID.test(id)) throw new Error(`API key id "${id}" must match ${KEY_ID}`);
      if (typeof key !== 'string' || key.length === 0) throw new Error(`API key "${id}" is empty`);
      const hex = digest(key).toString('hex');
      if (seen.has(id) || seen.has(hex)) throw new Error(`API key "${id}" is listed twice`);
      seen.add(id).add(hex);
      return { id, digest: digest(key) };
    });
  }

  /**
   * The id of the key in `header`, or undefined. Compares digests against every key with no
   * early exit, so neither the length nor the content of a key leaks through timing.
   */
  identify(header: string | string[] | undefined): string | undefined {
    if (typeof header !== 'string' || header.length === 0) return undefined;
    const candidate = digest(header);
    let found: string | undefined;
    for (const key of this.#keys) if (timingSafeEqual(candidate, key.digest)) found = key.id;
    return found;
  }
}

function derivedId(key: string): string {
  return `k${digest(key).toString('hex').slice(0, 12)}`;
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
