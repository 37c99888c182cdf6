// Bun and Deno: run the Redis store scenario and print the report as one marked JSON line.
import { REPORT_MARKER, runTests } from '../portable/harness.js';
import { redisStoreTests } from '../redis/store-scenario.js';

redisStoreTests();
const report = await runTests(navigator.userAgent);
console.log(REPORT_MARKER + JSON.stringify(report));
