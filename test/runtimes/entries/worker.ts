// workerd: a module Worker (no nodejs_compat) whose fetch handler runs the portable suite.
// Importing the suite evaluates its modules in the Worker's global scope, as a real Worker would.
import { registerSuite, runTests } from '../portable/suite.js';

registerSuite();

export default {
  async fetch(): Promise<Response> {
    return Response.json(await runTests(navigator.userAgent));
  },
};
