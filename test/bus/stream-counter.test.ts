import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StreamCounter } from '../../src/bus/stream-counter.js';

describe('StreamCounter', () => {
  it('counts like a plain tally, forgetting the earliest-seen stream past its bound', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 12 }), { maxLength: 300 }), (picks) => {
        const counter = new StreamCounter(5);
        const model = new Map<string, number>();
        let evicted = 0;
        for (const pick of picks) {
          const stream = `s${pick}`;
          if (!model.has(stream) && model.size >= 5) {
            const oldest = model.keys().next().value as string;
            evicted += model.get(oldest)!;
            model.delete(oldest);
          }
          model.set(stream, (model.get(stream) ?? 0) + 1);
        }
        for (const pick of picks) counter.count(`s${pick}`);
        const top = counter.top(100);
        expect(Object.fromEntries(top.map((t) => [t.stream, t.published]))).toEqual(
          Object.fromEntries(model),
        );
        expect(top.map((t) => t.published)).toEqual([...model.values()].sort((a, b) => b - a));
        expect(counter.evicted).toBe(evicted);
      }),
    );
  });
});
