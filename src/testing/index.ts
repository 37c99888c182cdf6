export {
  type ConformanceOptions,
  describeEventStore,
  type StoreFactory,
  type StoreFactoryOptions,
} from './describe-event-store.js';
export { type EventRecorder, recordEvents } from './event-recorder.js';
export { createFakeClock, type FakeClock } from './fake-clock.js';
