/**
 * Keys of subscription internals another part of this package uses (the SSE helper drains a
 * subscription's buffer without a promise per event). `Symbol.for`: the CommonJS build of
 * `busline/sse` carries its own copy of the modules, and must find the same key.
 */
export const TAKE_BUFFERED: unique symbol = Symbol.for('busline.subscription.takeBuffered');
