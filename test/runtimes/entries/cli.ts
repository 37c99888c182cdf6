// Bun and Deno: run the portable suite and print the report as one marked JSON line.
import { REPORT_MARKER } from '../portable/harness.js';
import { registerSuite, runTests } from '../portable/suite.js';

registerSuite();
const report = await runTests(navigator.userAgent);
console.log(REPORT_MARKER + JSON.stringify(report));
