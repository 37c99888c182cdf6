/**
 * Attribute objects made once per key (an event type, a type and a group) and shared by every
 * span start and measurement with that key: the SDK copies what it keeps, so a shared object is
 * safe, and the hot path allocates nothing. Bounded: past `MAX_SETS` keys (types made of ids,
 * say) each set is built on demand instead of kept.
 */
import type { Attributes } from '@opentelemetry/api';

const MAX_SETS = 1000;

export class AttributeSets {
  readonly #sets = new Map<string, Attributes>();
  readonly #build: (key: string) => Attributes;

  constructor(build: (key: string) => Attributes) {
    this.#build = build;
  }

  get(key: string): Attributes {
    let set = this.#sets.get(key);
    if (set === undefined) {
      set = Object.freeze(this.#build(key));
      if (this.#sets.size < MAX_SETS) this.#sets.set(key, set);
    }
    return set;
  }
}
