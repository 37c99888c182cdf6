/**
 * Who may see what. A token is not just "authenticated": it maps to a grant (the event
 * types and the meta values its holder may see), and everything a client asks for in the
 * query string is narrowed to that grant. The client's `kinds`, `agent_id` and `task_id`
 * choose within what the token allows; they never widen it.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import {
  InvalidPatternError,
  type ParsedPattern,
  parsePattern,
  type StoredEvent,
  TypeMatcher,
} from 'busline';

export interface TokenGrant {
  /** The bearer token; compared in constant time, never logged. */
  token: string;
  /** Who holds it (an agent, a tenant, a dashboard), for the server's logs; never sent. */
  subject: string;
  /** Patterns of the event types this token may receive, e.g. `['task.**', 'agent.**']`. */
  kinds: readonly string[];
  /**
   * Meta values every visible event must carry, e.g. `{ agent_id: 'A' }` or `{ tenant: 'acme' }`.
   * An event without the field is not visible. Omitted: no restriction beyond `kinds`.
   */
  meta?: Readonly<Record<string, string>>;
}

/** Why a client's request is refused: its query asks for more than its token allows. */
export class ForbiddenError extends Error {
  readonly code = 'FORBIDDEN';
}

/** What one connection receives: the patterns to subscribe and the test every event must pass. */
export interface Scope {
  kinds: string[];
  filter: (event: StoredEvent) => boolean;
}

/** The query parameters that filter on `meta`. */
const FILTERS = ['agent_id', 'task_id'] as const;

export class GrantRing {
  readonly #grants: { grant: TokenGrant; digest: Buffer; matcher: TypeMatcher }[];

  /** @throws for an empty list, a grant without token or kinds, a bad pattern or a token listed twice. */
  constructor(grants: readonly TokenGrant[]) {
    if (!Array.isArray(grants) || grants.length === 0)
      throw new Error('Expected grants: [{ token, subject, kinds, meta? }, …]');
    const seen = new Set<string>();
    this.#grants = grants.map((grant) => {
      if (typeof grant?.token !== 'string' || grant.token.length === 0)
        throw new Error(`Expected each grant to be { token, subject, kinds }, got ${JSON.stringify(grant)}`);
      if (!Array.isArray(grant.kinds) || grant.kinds.length === 0)
        throw new Error(`Grant "${grant.subject}" has no kinds`);
      const digest = sha256(grant.token);
      if (seen.has(digest.toString('hex'))) throw new Error(`Grant "${grant.subject}" repeats a token`);
      seen.add(digest.toString('hex'));
      return { grant, digest, matcher: new TypeMatcher(grant.kinds) };
    });
  }

  /** The grant of `token`, or undefined; checks every grant, with no early exit. */
  find(token: string | null | undefined): { grant: TokenGrant; matcher: TypeMatcher } | undefined {
    if (!token) return undefined;
    const candidate = sha256(token);
    let found: { grant: TokenGrant; matcher: TypeMatcher } | undefined;
    for (const entry of this.#grants) if (timingSafeEqual(candidate, entry.digest)) found = entry;
    return found;
  }
}

/**
 * Narrows a client's request to its grant.
 * @throws InvalidPatternError for a malformed pattern or more than `maxKinds`; ForbiddenError for a pattern that shares
 *   no event type with the grant, or a filter that contradicts it (agent B asking for `agent_id=A`)
 */
export function scopeFor(
  { grant, matcher }: { grant: TokenGrant; matcher: TypeMatcher },
  params: URLSearchParams,
  maxKinds: number,
): Scope {
  const kinds = (params.get('kinds') ?? '**').split(',').filter(Boolean);
  if (kinds.length === 0 || kinds.length > maxKinds)
    throw new InvalidPatternError(
      kinds.join(',').slice(0, 64),
      `expected 1 to ${maxKinds} patterns, got ${kinds.length}`,
    );
  for (const kind of kinds) {
    const parsed = parsePattern(kind); // InvalidPatternError before anything is sent
    if (!matcher.patterns.some((allowed) => overlap(parsed, allowed)))
      throw new ForbiddenError(`kinds "${kind}" is outside what this token may see`);
  }
  const wanted: [string, string][] = [];
  for (const name of FILTERS) {
    const value = params.get(name);
    if (value === null) continue;
    const fixed = grant.meta?.[name];
    if (fixed !== undefined && fixed !== value)
      throw new ForbiddenError(`${name}=${value} is outside what this token may see`);
    wanted.push([name, value]);
  }
  const required = Object.entries(grant.meta ?? {});
  // The client's kinds pick what is read; the grant's matcher decides what may be sent.
  const filter = (event: StoredEvent): boolean =>
    matcher.matches(event.type) &&
    required.every(([key, value]) => event.meta?.[key] === value) &&
    wanted.every(([key, value]) => event.meta?.[key] === value);
  return { kinds, filter };
}

/**
 * Whether some event type matches both patterns (`*` one segment, `**` any number): a
 * dynamic programme over the two segment lists, at most 33 × 33 states.
 */
export function overlap(a: ParsedPattern, b: ParsedPattern): boolean {
  const x = a.segments;
  const y = b.segments;
  const memo = new Map<number, boolean>();
  const from = (i: number, j: number): boolean => {
    const key = i * 64 + j;
    const known = memo.get(key);
    if (known !== undefined) return known;
    let result: boolean;
    if (i === x.length && j === y.length) result = true;
    else if (x[i] === '**') result = from(i + 1, j) || (j < y.length && from(i, j + 1));
    else if (y[j] === '**') result = from(i, j + 1) || (i < x.length && from(i + 1, j));
    else
      result =
        i < x.length && j < y.length && (x[i] === '*' || y[j] === '*' || x[i] === y[j]) && from(i + 1, j + 1);
    memo.set(key, result);
    return result;
  };
  return from(0, 0);
}

function sha256(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
