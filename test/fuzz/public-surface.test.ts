// Bad input on the whole public surface (issue #14, item 7): every function, constructor and
// method of every entry point, called with any value for every argument and option, succeeds or
// fails with a BuslineError that names the bad input; never a TypeError, a hang or a polluted
// prototype. Each entry point's table (test/fuzz/surface/) says how each export is covered;
// an export missing from its table fails here, so a new one cannot slip by. Redis: see
// public-surface-redis.test.ts.
import { describe, expect, it } from 'vitest';
import * as core from '../../src/index.js';
import * as otel from '../../src/otel/index.js';
import * as redis from '../../src/redis/index.js';
import * as sse from '../../src/sse/index.js';
import * as testing from '../../src/testing/index.js';
import { coreSurface } from './surface/core-surface.js';
import type { SurfaceCase } from './surface/input-fuzz.js';
import { otelSurface } from './surface/otel-surface.js';
import { redisSurface } from './surface/redis-surface.js';
import { sseSurface } from './surface/sse-surface.js';
import { testingSurface } from './surface/testing-surface.js';

const noRedis = () => {
  throw new Error('the Redis cases run in public-surface-redis.test.ts');
};

/** package.json "exports": the entry, its runtime exports, and the table covering them. */
const ENTRIES: [string, Record<string, unknown>, Record<string, SurfaceCase>][] = [
  ['busline', core, coreSurface],
  ['busline/sse', sse, sseSurface],
  ['busline/redis', redis, redisSurface(noRedis)],
  ['busline/testing', testing, testingSurface],
  ['busline/otel', otel, otelSurface],
];

describe('every runtime export of every entry point has a fuzz case (or a reason it has none)', () => {
  it.each(ENTRIES)('%s', (_entry, exports, table) => {
    expect(Object.keys(exports).filter((name) => !(name in table))).toEqual([]);
    expect(Object.keys(table).filter((name) => !(name in exports))).toEqual([]);
    for (const [name, value] of Object.entries(exports)) {
      const covered = table[name]!;
      // Only values that cannot be called may be listed as not callable.
      if ('notCallable' in covered) expect(typeof value, name).not.toBe('function');
    }
  });
});

for (const [entry, , table] of ENTRIES.filter(([entry]) => entry !== 'busline/redis')) {
  describe(`any input at ${entry}`, () => {
    for (const [name, covered] of Object.entries(table)) {
      if (!('fuzz' in covered)) continue;
      for (const [member, fuzz] of Object.entries(covered.fuzz)) it(`${name} › ${member}`, fuzz);
    }
  });
}
