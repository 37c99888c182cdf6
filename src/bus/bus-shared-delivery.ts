/**
 * A bus's delivery through a store shared between processes (SharedDelivery), started with
 * the bus: at once when its code is loaded (by busline/redis, or an earlier bus), after the
 * load otherwise (see load-shared-delivery.ts). Calls made while it loads wait for it.
 */
import { ClosedError } from '../errors.js';
import type { StoredEvent } from '../event.js';
import type { PublishResult } from '../publish/publish-result.js';
import type { LiveFeed } from './live-feed.js';
import { loadSharedDelivery } from './load-shared-delivery.js';
import type { SharedDelivery, SharedDeliveryOptions } from './shared-delivery.js';

export class BusSharedDelivery {
  /** Once its code has loaded. */
  #shared: SharedDelivery | undefined;
  /** The same while its code loads; undefined in the end if the bus closed first (no feed started). */
  #loading: Promise<SharedDelivery | undefined> | undefined;

  /** `closed`: whether the bus has closed (then a load that ends starts no feed: close() found none to stop). */
  constructor(options: SharedDeliveryOptions, closed: () => boolean) {
    const start = (Delivery: typeof SharedDelivery): SharedDelivery | undefined => {
      if (closed()) return undefined;
      this.#shared = new Delivery(options);
      return this.#shared;
    };
    const loading = loadSharedDelivery();
    if (!(loading instanceof Promise)) {
      start(loading);
      return;
    }
    this.#loading = loading.then(start);
    // A failed load rejects the publishes and waits that need it; it is not left unhandled.
    this.#loading.catch(() => {});
  }

  /** The live feed, once started. */
  get feed(): LiveFeed | undefined {
    return this.#shared?.feed;
  }

  /** See SharedDelivery.publish. */
  publish(events: StoredEvent[], signal: AbortSignal | undefined): Promise<PublishResult[]> {
    return this.#use((shared) => shared.publish(events, signal));
  }

  /** Waits for the live feed to be positioned: bounded by `timeoutMs`, cancellable, ended by close. */
  positioned(signal: AbortSignal | undefined, timeoutMs?: number): Promise<void> {
    return this.#use((shared) => shared.positioned(signal, timeoutMs));
  }

  /** Stops the live feed (once its code has loaded, if it was loading; a failed load has none). */
  async stop(): Promise<void> {
    const shared = this.#shared ?? (await this.#loading?.catch(() => undefined));
    await shared?.feed.close();
  }

  /** Calls `use` at once when loaded, after the load otherwise (ClosedError if no feed was started). */
  #use<T>(use: (shared: SharedDelivery) => Promise<T>): Promise<T> {
    const shared = this.#shared;
    if (shared !== undefined) return use(shared);
    return this.#loading!.then((loaded) => {
      if (loaded === undefined) throw new ClosedError('The bus closed before its live feed was positioned');
      return use(loaded);
    });
  }
}
