import type { ConsumerContext } from './consumer-group-options.js';
import type { LazyAbort } from './lazy-abort.js';

/**
 * A handler's `context`. `signal` is an own, enumerable getter, so a handler that copies the
 * context (`{ ...context }`) still gets the signal; the getter is one shared function defined
 * with one shared descriptor. An object literal with `get signal() {}` makes a new getter per
 * delivery, and V8 keeps accessors in the hidden class: every context got a class of its own
 * (about 2.7 µs per delivery with the garbage it leaves; measured against ~120 ns for this).
 */
export class DeliveryContext implements ConsumerContext {
  static readonly #signal: PropertyDescriptor = {
    get(this: DeliveryContext): AbortSignal {
      return this.#abort.signal;
    },
    enumerable: true,
    configurable: true,
  };

  // Declared, not initialized as class fields, so the properties come in this order.
  declare readonly deliveries: number;
  declare readonly signal: AbortSignal;
  declare readonly group: string;
  readonly #abort: LazyAbort;

  constructor(deliveries: number, group: string, abort: LazyAbort) {
    this.deliveries = deliveries;
    Object.defineProperty(this, 'signal', DeliveryContext.#signal);
    this.group = group;
    this.#abort = abort;
  }
}
