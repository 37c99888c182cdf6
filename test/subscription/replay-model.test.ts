import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checked, command, memoryStore, run } from './replay-model.js';

describe('replay → live handover (model test, memory store)', () => {
  it('gives every subscription exactly the matching suffix of the log, under concurrent publishes', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(command, { minLength: 5, maxLength: 40 }),
        fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 4 }),
        (commands, delays) => run(memoryStore, commands, delays),
      ),
      { numRuns: 300 },
    );
    expect(checked.seen).toBeGreaterThan(1000);
  });
});
