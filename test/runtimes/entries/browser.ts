// Chromium: evaluated as a classic script in a page; the test awaits the report's promise.
import { registerSuite, runTests } from '../portable/suite.js';

registerSuite();
(globalThis as { buslinePortableReport?: unknown }).buslinePortableReport = runTests(navigator.userAgent);
