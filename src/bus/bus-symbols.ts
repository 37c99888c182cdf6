/**
 * Keys of bus internals that other parts of this package read (the SSE helper) without
 * importing the EventBus module itself, so a bundle of `busline/sse` stays small.
 */
export const BUS_HAS_STORE: unique symbol = Symbol.for('busline.bus.hasStore');
export const BUS_MAX_EVENT_BYTES: unique symbol = Symbol.for('busline.bus.maxEventBytes');
