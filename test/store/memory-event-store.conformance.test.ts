import { MemoryEventStore } from '../../src/index.js';
import { describeEventStore } from '../../src/testing/index.js';

describeEventStore('MemoryEventStore', (hints) => new MemoryEventStore(hints), { retention: true });
