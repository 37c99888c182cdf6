import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RingBuffer } from '../../src/subscription/ring-buffer.js';

type Op = { kind: 'push'; value: number } | { kind: 'shift' } | { kind: 'clear' };

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.integer().map((value) => ({ kind: 'push' as const, value })) },
  { weight: 4, arbitrary: fc.constant({ kind: 'shift' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'clear' as const }) },
);

describe('RingBuffer', () => {
  // Capacities around and past the initial 16 slots, powers of two or not, so the storage
  // grows (doubling, then capped at the capacity) while the head sits anywhere in it.
  it('behaves as a FIFO array bounded by its capacity, through growth and wrap-around', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 70 }), fc.array(op, { maxLength: 400 }), (capacity, ops) => {
        const ring = new RingBuffer<number>(capacity);
        const model: number[] = [];
        for (const step of ops) {
          if (step.kind === 'push') {
            expect(ring.isFull()).toBe(model.length >= capacity);
            if (ring.isFull()) continue; // the caller checks first
            ring.push(step.value);
            model.push(step.value);
          } else if (step.kind === 'shift') {
            expect(ring.shift()).toBe(model.shift());
          } else {
            ring.clear();
            model.length = 0;
          }
          expect(ring.length).toBe(model.length);
          // A write past the end would grow a JS array silently and still read back in order.
          expect(ring.slots).toBeLessThanOrEqual(capacity);
        }
        const drained: number[] = [];
        while (ring.length > 0) drained.push(ring.shift()!);
        expect(drained).toEqual(model);
        expect(ring.shift()).toBeUndefined();
      }),
      { numRuns: 500 },
    );
  });
});
