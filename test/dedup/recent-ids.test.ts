import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RecentIds } from '../../src/dedup/recent-ids.js';

describe('RecentIds', () => {
  it('holds exactly the last capacity ids, ascending or not (binary search and scan agree with a model)', () => {
    const add = fc.oneof(
      { arbitrary: fc.constant('next' as const), weight: 8 },
      {
        arbitrary: fc.integer({ min: 0, max: 400 }).map((n) => `id-${String(n).padStart(4, '0')}`),
        weight: 1,
      },
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), fc.array(add, { maxLength: 300 }), (capacity, adds) => {
        const recent = new RecentIds(capacity);
        const model: string[] = [];
        let next = 100;
        for (const a of adds) {
          const id = a === 'next' ? `id-${String(next++).padStart(4, '0')}` : a;
          recent.add(id);
          model.push(id);
          if (model.length > capacity) model.shift();
          const probes = [id, model[0]!, `id-${String(next).padStart(4, '0')}`, 'id-0050', 'zzz', ''];
          for (const probe of probes) expect(recent.has(probe), probe).toBe(model.includes(probe));
        }
      }),
      { numRuns: 300 },
    );
  });
});
