/**
 * W3C Trace Context (https://www.w3.org/TR/trace-context/) in `event.meta`: the `traceparent`
 * and `tracestate` keys, written and read here rather than through the registered propagator,
 * whose default is a no-op. What we read may come from another process, so every rule of the
 * format is checked and anything else is ignored: a bad value never throws and never joins a trace.
 */
import { createTraceState, type SpanContext } from '@opentelemetry/api';

/** The meta keys, named as the HTTP headers. */
export const TRACEPARENT = 'traceparent';
export const TRACESTATE = 'tracestate';

/** Version 00: `00-<32 hex trace id>-<16 hex span id>-<2 hex flags>`, lowercase only. */
const TRACEPARENT_00 = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
/** A later version: the same four fields, then optionally `-` and fields this version does not know. */
const TRACEPARENT_LATER = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(?:-.*)?$/s;
const ZERO_TRACE_ID = '0'.repeat(32);
const ZERO_SPAN_ID = '0'.repeat(16);
/** No valid traceparent is longer than this: past it, later-version fields are not read either. */
const MAX_TRACEPARENT = 512;

/** The spec's limits on tracestate: 32 list members, and vendors may drop one longer than 512 characters. */
const MAX_TRACESTATE_MEMBERS = 32;
const MAX_TRACESTATE = 512;
/** `key=value`: a simple key or `tenant@system`, and a value of printable ASCII without `,` `=` or a trailing space. */
const TRACESTATE_MEMBER =
  /^(?:[a-z][a-z0-9_\-*/]{0,255}|[a-z0-9][a-z0-9_\-*/]{0,240}@[a-z][a-z0-9_\-*/]{0,13})=[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]$/;

/** The meta keys that carry `context` to consumers. */
export function formatTraceContext(context: SpanContext): Record<string, string> {
  const flags = (context.traceFlags & 0xff).toString(16).padStart(2, '0');
  const keys: Record<string, string> = {
    [TRACEPARENT]: `00-${context.traceId}-${context.spanId}-${flags}`,
  };
  const state = context.traceState?.serialize();
  if (state) keys[TRACESTATE] = state;
  return keys;
}

/** The producer's span context carried by `meta`, or undefined when there is none or it is malformed. */
export function parseTraceContext(
  meta: Readonly<Record<string, unknown>> | undefined,
): SpanContext | undefined {
  if (meta === undefined) return undefined;
  const parent = meta[TRACEPARENT];
  if (typeof parent !== 'string' || parent.length > MAX_TRACEPARENT) return undefined;
  const fields = parseTraceparent(parent);
  if (fields === undefined) return undefined;
  const context: SpanContext = { ...fields, isRemote: true };
  const state = meta[TRACESTATE];
  if (typeof state === 'string' && isValidTracestate(state)) context.traceState = createTraceState(state);
  return context;
}

function parseTraceparent(value: string): Pick<SpanContext, 'traceId' | 'spanId' | 'traceFlags'> | undefined {
  let traceId: string;
  let spanId: string;
  let flags: string;
  const v00 = TRACEPARENT_00.exec(value);
  if (v00 !== null) [, traceId, spanId, flags] = v00 as unknown as [string, string, string, string];
  else {
    const later = TRACEPARENT_LATER.exec(value);
    // Version ff is forbidden; 00 must match exactly (it was tried above).
    if (later === null || later[1] === 'ff' || later[1] === '00') return undefined;
    [, , traceId, spanId, flags] = later as unknown as [string, string, string, string, string];
  }
  if (traceId === ZERO_TRACE_ID || spanId === ZERO_SPAN_ID) return undefined;
  return { traceId, spanId, traceFlags: Number.parseInt(flags, 16) };
}

/** A whole tracestate header that follows the list grammar; otherwise none of it is kept. */
function isValidTracestate(value: string): boolean {
  if (value.length > MAX_TRACESTATE) return false;
  const members = value.split(',');
  if (members.length > MAX_TRACESTATE_MEMBERS) return false;
  const keys = new Set<string>();
  for (const raw of members) {
    // Optional whitespace around members; an empty member (`a=1,,b=2`) is allowed and skipped.
    const member = raw.replace(/^[ \t]+|[ \t]+$/g, '');
    if (member === '') continue;
    if (!TRACESTATE_MEMBER.test(member)) return false;
    const key = member.slice(0, member.indexOf('='));
    if (keys.has(key)) return false;
    keys.add(key);
  }
  return true;
}
