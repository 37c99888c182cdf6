import { defineConfig } from 'tsup';

const entry = {
  index: 'src/index.ts',
  redis: 'src/redis/index.ts',
  testing: 'src/testing/index.ts',
  sse: 'src/sse/index.ts',
  otel: 'src/otel/index.ts',
};

export default defineConfig([
  {
    // ESM: dependencies stay external, resolved by the user's package manager.
    entry,
    format: ['esm'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'node20',
  },
  {
    entry,
    format: ['cjs'],
    // Shared chunks, as in the ESM build: busline/redis, /sse, /otel and /testing then use the same
    // error classes as busline, so `instanceof StoreUnavailableError` works across entries.
    splitting: true,
    dts: true,
    sourcemap: true,
    target: 'node20',
  },
]);
