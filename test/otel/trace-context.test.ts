import { createTraceState, type SpanContext, TraceFlags } from '@opentelemetry/api';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatTraceContext, parseTraceContext } from '../../src/otel/trace-context.js';
import { anyValue } from '../fuzz/hostile.js';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN_ID = '00f067aa0ba902b7';
const valid = `00-${TRACE_ID}-${SPAN_ID}-01`;

describe('formatTraceContext', () => {
  it('writes traceparent version 00, and tracestate only when there is one', () => {
    const context: SpanContext = { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: TraceFlags.SAMPLED };
    expect(formatTraceContext(context)).toEqual({ traceparent: valid });
    expect(formatTraceContext({ ...context, traceFlags: TraceFlags.NONE }).traceparent).toMatch(/-00$/);
    const state = createTraceState('rojo=00f067aa0ba902b7,congo=t61rcWkgMzE');
    expect(formatTraceContext({ ...context, traceState: state })).toEqual({
      traceparent: valid,
      tracestate: 'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE',
    });
  });

  it('round-trips through parseTraceContext', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[0-9a-f]{32}$/).filter((id) => /[1-9a-f]/.test(id)),
        fc.stringMatching(/^[0-9a-f]{16}$/).filter((id) => /[1-9a-f]/.test(id)),
        fc.integer({ min: 0, max: 255 }),
        (traceId, spanId, traceFlags) => {
          const parsed = parseTraceContext(formatTraceContext({ traceId, spanId, traceFlags }));
          expect(parsed).toEqual({ traceId, spanId, traceFlags, isRemote: true });
        },
      ),
    );
  });
});

describe('parseTraceContext', () => {
  it('reads a valid traceparent and tracestate as a remote span context', () => {
    const context = parseTraceContext({ traceparent: valid, tracestate: 'a=1, b@t=2 ,,c=x y' });
    expect(context).toMatchObject({ traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: 1, isRemote: true });
    expect(context!.traceState!.get('b@t')).toBe('2');
    expect(context!.traceState!.get('c')).toBe('x y');
  });

  it('reads the known fields of a later version, and ignores what follows them', () => {
    expect(parseTraceContext({ traceparent: `01-${TRACE_ID}-${SPAN_ID}-01-what-comes-next` })).toMatchObject({
      traceId: TRACE_ID,
      spanId: SPAN_ID,
    });
    expect(parseTraceContext({ traceparent: `01-${TRACE_ID}-${SPAN_ID}-01x` })).toBeUndefined();
  });

  it.each([
    ['no meta', undefined],
    ['no traceparent', { tracestate: 'a=1' }],
    ['a number', { traceparent: 1 }],
    ['a boolean', { traceparent: true }],
    ['uppercase', { traceparent: valid.toUpperCase() }],
    ['version ff', { traceparent: valid.replace(/^00/, 'ff') }],
    ['version 00 with more fields', { traceparent: `${valid}-00` }],
    ['a zero trace id', { traceparent: `00-${'0'.repeat(32)}-${SPAN_ID}-01` }],
    ['a zero span id', { traceparent: `00-${TRACE_ID}-${'0'.repeat(16)}-01` }],
    ['a short trace id', { traceparent: `00-${TRACE_ID.slice(1)}-${SPAN_ID}-01` }],
    ['non-hex flags', { traceparent: `00-${TRACE_ID}-${SPAN_ID}-0g` }],
    ['surrounding spaces', { traceparent: ` ${valid} ` }],
    ['a newline', { traceparent: `${valid}\n` }],
    ['huge', { traceparent: `01-${TRACE_ID}-${SPAN_ID}-01-${'x'.repeat(10_000)}` }],
  ])('ignores %s', (_, meta) => {
    expect(parseTraceContext(meta)).toBeUndefined();
  });

  it.each([
    ['an uppercase key', 'A=1'],
    ['a duplicate key', 'a=1,a=2'],
    ['a value with =', 'a=b=c'],
    ['an empty value', 'a=  '],
    ['33 members', Array.from({ length: 33 }, (_, i) => `k${i}=v`).join(',')],
    ['past 512 characters', `a=${'v'.repeat(255)},b=${'v'.repeat(255)}`],
    ['a non-ASCII value', 'a=é'],
  ])('keeps the traceparent but drops a tracestate with %s', (_, tracestate) => {
    const context = parseTraceContext({ traceparent: valid, tracestate });
    expect(context?.traceId).toBe(TRACE_ID);
    expect(context?.traceState).toBeUndefined();
  });

  it('never throws, whatever meta holds, and accepts only well-formed values', () => {
    const meta = fc.record({ traceparent: anyValue, tracestate: anyValue }, { requiredKeys: [] });
    fc.assert(
      fc.property(meta, (value) => {
        const context = parseTraceContext(value as Record<string, unknown>);
        if (context === undefined) return;
        expect(value.traceparent).toMatch(/^[0-9a-e][0-9a-f]-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}(-.*)?$/s);
      }),
      { numRuns: 2000 },
    );
  });
});
