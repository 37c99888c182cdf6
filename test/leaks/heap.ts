import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

setFlagsFromString('--expose-gc');
/** A real `gc()`, whatever flags the test process started with. */
const gc = runInNewContext('gc') as () => void;

/**
 * Runs `cycle` once to warm up JIT code and caches, then again, and returns how much the
 * settled heap grew across the second run alone.
 */
export async function heapGrowthOfSecondRun(cycle: (run: number) => unknown): Promise<number> {
  await cycle(0);
  const before = await settledHeap();
  await cycle(1);
  return (await settledHeap()) - before;
}

/** Heap used after full collections, so transient garbage does not count. */
export async function settledHeap(): Promise<number> {
  for (let i = 0; i < 3; i++) {
    await new Promise((resolve) => setImmediate(resolve));
    gc();
  }
  return process.memoryUsage().heapUsed;
}
