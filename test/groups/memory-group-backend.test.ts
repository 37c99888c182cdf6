import { MemoryGroupBackend } from '../../src/groups/memory-group-backend.js';
import { MemoryEventStore } from '../../src/index.js';
import { describeGroupBackend } from './group-backend-contract.js';

describeGroupBackend('MemoryGroupBackend', async () => {
  const store = new MemoryEventStore();
  const backend = new MemoryGroupBackend({ store, clock: Date.now, report: () => {} });
  return { backend, store, cleanup: () => store.close() };
});
