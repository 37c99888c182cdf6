// Every portable test module, registered in this order. The runtime entries and the Node-side
// check both call registerSuite, so both see the same list of tests. Called, not imported for
// effect: under busline's `sideEffects: false` esbuild drops a module imported only for effect.
import { busTests } from './bus.js';
import { dedupLimitTests } from './dedup-limit.js';
import { patternTests } from './patterns.js';
import { sseTests } from './sse.js';
import { storeReplayTests } from './store-replay.js';

export function registerSuite(): void {
  busTests();
  patternTests();
  storeReplayTests();
  dedupLimitTests();
  sseTests();
}

export { registeredTests, runTests, type SuiteReport } from './harness.js';
