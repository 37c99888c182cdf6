/**
 * A bus's delivery through a store shared between processes (SharedDelivery), started with
 * the bus: at once when its code is loaded (by busline/redis, or an earlier bus), after the
 * load otherwise (see load-shared-delivery.ts). Calls made while it loads wait for it.
 *
 * A failed load (in a split bundle, the chunk's request failed) rejects the calls waiting for
 * it with ModuleLoadError and goes to `onError`. It is not final: without a feed, events of
 * other processes would never reach this bus's subscribers, so the bus loads again on its own
 * (after 1 s, doubling up to 30 s), and at once on the next call that needs it.
 */
import { ClosedError, type ModuleLoadError, moduleLoadFailed } from '../errors.js';
import type { StoredEvent } from '../event.js';
import type { PublishResult } from '../publish/publish-result.js';
import type { LiveFeed } from './live-feed.js';
import { loadSharedDelivery } from './load-shared-delivery.js';
import type { SharedDelivery, SharedDeliveryOptions } from './shared-delivery.js';

const FIRST_RETRY_MS = 1000;
const MAX_RETRY_MS = 30_000;

export class BusSharedDelivery {
  readonly #options: SharedDeliveryOptions;
  readonly #closed: () => boolean;
  /** Once its code has loaded. */
  #shared: SharedDelivery | undefined;
  /** The same while its code loads; undefined in the end if the bus closed first (no feed started). */
  #loading: Promise<SharedDelivery | undefined> | undefined;
  /** The last failed load's error, until a load succeeds. */
  #loadError: ModuleLoadError | undefined;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #retryMs = FIRST_RETRY_MS;

  /** `closed`: whether the bus has closed (then a load that ends starts no feed: close() found none to stop). */
  constructor(options: SharedDeliveryOptions, closed: () => boolean) {
    this.#options = options;
    this.#closed = closed;
    this.#load();
  }

  /** The live feed, once started. */
  get feed(): LiveFeed | undefined {
    return this.#shared?.feed;
  }

  /** The feed's last failure, or, before there is a feed, the last failed load's. */
  get lastError(): unknown {
    return this.#shared === undefined ? this.#loadError : this.#shared.feed.lastError;
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
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    const shared = this.#shared ?? (await this.#loading?.catch(() => undefined));
    await shared?.feed.close();
  }

  /** Loads SharedDelivery's code and starts the feed: at once when it is loaded, after the load otherwise. */
  #load(): void {
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    const loading = loadSharedDelivery();
    if (!(loading instanceof Promise)) {
      this.#start(loading);
      return;
    }
    this.#loading = loading.then(
      (Delivery) => this.#start(Delivery),
      (error: unknown) => {
        throw this.#failed(error);
      },
    );
    // The calls that wait for it are rejected with the error; it is not left unhandled.
    this.#loading.catch(() => {});
  }

  #start(Delivery: typeof SharedDelivery): SharedDelivery | undefined {
    // Closed while the code loaded: no feed to start (close() found none to stop).
    if (this.#closed()) return undefined;
    this.#loadError = undefined;
    this.#shared = new Delivery(this.#options);
    return this.#shared;
  }

  /** A failed load: typed, reported, and tried again later unless the bus closed meanwhile. */
  #failed(cause: unknown): ModuleLoadError {
    this.#loading = undefined;
    const error = moduleLoadFailed(
      'shared-store delivery',
      cause,
      `The calls that waited for it failed; loading again in ${this.#retryMs} ms, or at the next publish`,
    );
    this.#loadError = error;
    if (!this.#closed()) {
      this.#options.report(error);
      this.#retryTimer = setTimeout(() => this.#load(), this.#retryMs);
      this.#retryMs = Math.min(this.#retryMs * 2, MAX_RETRY_MS);
    }
    return error;
  }

  /**
   * Calls `use` at once when loaded, after the load otherwise; a load that failed before is
   * tried again now. ClosedError if the bus closed before a feed was started.
   */
  #use<T>(use: (shared: SharedDelivery) => Promise<T>): Promise<T> {
    if (this.#shared === undefined && this.#loading === undefined && !this.#closed()) this.#load();
    const shared = this.#shared;
    if (shared !== undefined) return use(shared);
    const closed = (): ClosedError => new ClosedError('The bus closed before its live feed was positioned');
    if (this.#loading === undefined) return Promise.reject(closed());
    return this.#loading.then((loaded) => {
      if (loaded === undefined) throw closed();
      return use(loaded);
    });
  }
}
