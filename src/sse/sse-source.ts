import { BUS_HAS_STORE, BUS_MAX_EVENT_BYTES } from '../bus/bus-symbols.js';
import type { EventBus } from '../bus/event-bus.js';
import { TimeoutError } from '../errors.js';
import type { StoredEvent } from '../event.js';
import type { Subscription } from '../subscription/buffered-subscription.js';
import type { HistoryTruncated } from '../subscription/history-truncated.js';
import { TAKE_BUFFERED } from '../subscription/subscription-symbols.js';
import {
  formatComment,
  formatMessage,
  formatNotice,
  formatRetry,
  SSE_EVENTS,
  sharedSSEFrame,
} from './format-sse.js';

type Item = StoredEvent | HistoryTruncated;
type Next = IteratorResult<Item, undefined>;

/** Checked `sseStream` options. */
export interface SSESourceOptions {
  patterns: string | readonly string[];
  lastEventId: string | undefined;
  filter: ((event: StoredEvent) => boolean) | undefined;
  heartbeatMs: number;
  /** How long the consumer may take to ask for the next chunk; 0: forever. */
  drainTimeoutMs: number;
  retryMs: number | undefined;
  bufferSize: number;
  named: boolean;
  maxChunkChars: number;
  signal: AbortSignal | undefined;
}

const PING = Symbol('ping');
const LATER = Symbol('later');
const NOW_LATER: Promise<typeof LATER> = Promise.resolve(LATER);
const NEVER: Promise<never> = new Promise(() => {});
const encoder = new TextEncoder();

/**
 * The pull side of `sseStream`: each `pull` (the consumer asking for bytes) reads the
 * subscription once, plus whatever is already buffered up to `maxChunkChars`. Nothing is read
 * ahead of the client, so a slow client leaves events in the subscription's bounded buffer,
 * where `overflow: 'error'` ends the stream instead of growing memory (see docs/sse.md).
 */
export class SSESource implements UnderlyingDefaultSource<Uint8Array> {
  readonly #bus: EventBus;
  /** The bus's maxEventBytes, checked again on what is framed (an event can grow after publish). */
  readonly #maxEventBytes: number | undefined;
  readonly #options: SSESourceOptions;
  #subscription: Subscription<Item>;
  /** A `next()` that lost a race against the heartbeat: the following pull must take its result. */
  #next: Promise<Next> | undefined;
  /** Subscribed `after` a Last-Event-ID and nothing came yet: a failure now means a bad cursor. */
  #resuming: boolean;
  #preamble: string;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** Runs while the consumer holds a chunk (or has not asked for the first): see `#stalled`. */
  #stallTimer: ReturnType<typeof setTimeout> | undefined;
  #controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  #ended = false;

  /** Subscribes at once, so `'now'` means when the stream was created; throws for bad patterns. */
  constructor(bus: EventBus, options: SSESourceOptions) {
    this.#bus = bus;
    this.#maxEventBytes = (bus as { [BUS_MAX_EVENT_BYTES]?: number })[BUS_MAX_EVENT_BYTES];
    this.#options = options;
    this.#preamble = options.retryMs === undefined ? '' : formatRetry(options.retryMs);
    this.#resuming = options.lastEventId !== undefined;
    this.#subscription = this.#subscribe(options.lastEventId);
    if (options.signal?.aborted) this.end();
    else {
      options.signal?.addEventListener('abort', this.#onAbort, { once: true });
      this.#armStallTimer();
    }
  }

  start(controller: ReadableStreamDefaultController<Uint8Array>): void {
    this.#controller = controller;
    if (this.#ended) controller.close();
  }

  async pull(controller: ReadableStreamDefaultController<Uint8Array>): Promise<void> {
    this.#clearStallTimer();
    const chunk = new ChunkBuilder();
    chunk.addText(this.#preamble);
    this.#preamble = '';
    let finished = false;
    try {
      while (chunk.size < this.#options.maxChunkChars) {
        const result = await this.#take(chunk.size === 0);
        if (result === LATER) break;
        if (result === PING) {
          chunk.addText(formatComment('ping'));
          break;
        }
        this.#resuming = false;
        if (result.done) {
          finished = true;
          break;
        }
        chunk.add(this.#frame(result.value));
        this.#drainBuffered(chunk);
      }
    } catch (error) {
      if (this.#ended) return; // cancelled meanwhile: subscribe nothing new
      const resumed = this.#resuming && codeOf(error) === 'INVALID_OPTION';
      chunk.addText(resumed ? this.#restartLive() : formatNotice(SSE_EVENTS.error, describeError(error)));
      finished = !resumed;
    }
    if (this.#ended) return;
    if (chunk.size > 0) controller.enqueue(chunk.bytes());
    if (finished) this.end();
    else this.#armStallTimer();
  }

  cancel(): void {
    this.#ended = true;
    this.#release();
  }

  /** Releases the subscription and closes the stream (abort, or the end of the subscription). */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#release();
    this.#controller?.close();
  }

  #subscribe(after: string | undefined): Subscription<Item> {
    const { patterns, filter, bufferSize } = this.#options;
    // With a store, a slow client catches up from it (nothing lost, bounded memory); without
    // one, a client that falls behind is disconnected ('error') rather than silently skipped.
    const overflow = (this.#bus as { [BUS_HAS_STORE]?: boolean })[BUS_HAS_STORE] ? undefined : 'error';
    const options = { bufferSize, overflow, filter, onTruncated: 'signal' } as const;
    if (after === undefined) return this.#bus.subscribe(patterns, { ...options, from: 'now' });
    try {
      return this.#bus.subscribe(patterns, { ...options, from: { after } });
    } catch (error) {
      if (codeOf(error) !== 'INVALID_OPTION') throw error;
      // The options were valid for 'now' too, so this is a bus without a store: there is no
      // history to replay. A genuinely bad option throws again right here.
      const live = this.#bus.subscribe(patterns, { ...options, from: 'now' });
      this.#resuming = false;
      this.#preamble += formatNotice(SSE_EVENTS.historyTruncated, {
        after,
        message: `This bus keeps no history (store: null): events after ${after} cannot be replayed`,
      });
      return live;
    }
  }

  /** The Last-Event-ID is not a cursor of this store: say so, clear it in the browser, go live. */
  #restartLive(): string {
    const lastEventId = this.#options.lastEventId;
    this.#resuming = false;
    this.#subscription = this.#subscribe(undefined);
    return formatNotice(
      SSE_EVENTS.error,
      {
        code: 'INVALID_OPTION',
        message: `Last-Event-ID ${JSON.stringify(lastEventId)} is not a cursor of this store; streaming live events from now on`,
        lastEventId,
      },
      true,
    );
  }

  /** Adds what the subscription already holds to the chunk, without a promise per event. */
  #drainBuffered(chunk: ChunkBuilder): void {
    if (this.#next !== undefined) return; // a pending next() takes the following item
    const take = (this.#subscription as { [TAKE_BUFFERED]?: () => Item | undefined })[TAKE_BUFFERED];
    if (take === undefined) return;
    while (chunk.size < this.#options.maxChunkChars) {
      const item = take.call(this.#subscription);
      if (item === undefined) return;
      chunk.add(this.#frame(item));
    }
  }

  /** The next item; with `wait` false only one already buffered, else LATER. */
  async #take(wait: boolean): Promise<Next | typeof PING | typeof LATER> {
    // Asking next() of an empty subscription would park a reader in it, and the next event
    // would go to that reader instead of the buffer: one event more than bufferSize held.
    if (!wait && this.#next === undefined && this.#subscription.stats().buffered === 0) return LATER;
    this.#next ??= this.#subscription.next();
    const next = this.#next;
    const other = wait ? this.#heartbeat() : NOW_LATER;
    try {
      const result = await Promise.race([next, other]);
      if (result !== PING && result !== LATER) this.#next = undefined;
      return result;
    } catch (error) {
      this.#next = undefined;
      throw error;
    } finally {
      this.#clearTimer();
    }
  }

  #heartbeat(): Promise<typeof PING> {
    const { heartbeatMs } = this.#options;
    if (heartbeatMs === 0) return NEVER;
    return new Promise((resolve) => {
      this.#timer = setTimeout(() => resolve(PING), heartbeatMs);
    });
  }

  /** An event's frame is shared with every other connection sending it (see sharedSSEFrame). */
  #frame(item: Item): Uint8Array {
    if (isTruncation(item)) {
      return encoder.encode(
        formatNotice(SSE_EVENTS.historyTruncated, { after: item.after ?? null, message: item.message }),
      );
    }
    try {
      return sharedSSEFrame(item, this.#options.named, this.#maxEventBytes);
    } catch (error) {
      if (codeOf(error) !== 'EVENT_TOO_LARGE') throw error;
      // Grew past the limit after it was published: not sent, and the client is told which one
      // (the id moves past it, so a reconnect does not ask for it again).
      return encoder.encode(
        formatMessage({
          id: item.cursor,
          event: SSE_EVENTS.error,
          data: JSON.stringify({
            code: 'EVENT_TOO_LARGE',
            cursor: item.cursor,
            message: (error as Error).message,
          }),
        }),
      );
    }
  }

  readonly #onAbort = (): void => this.end();

  #release(): void {
    this.#options.signal?.removeEventListener('abort', this.#onAbort);
    this.#clearTimer();
    this.#clearStallTimer();
    void this.#subscription.return();
  }

  #armStallTimer(): void {
    const { drainTimeoutMs } = this.#options;
    if (drainTimeoutMs === 0 || this.#ended) return;
    this.#stallTimer = setTimeout(this.#stalled, drainTimeoutMs);
    // A stream nobody reads must not keep a Node process alive (Node's timers have unref).
    (this.#stallTimer as { unref?: () => void }).unref?.();
  }

  #clearStallTimer(): void {
    if (this.#stallTimer === undefined) return;
    clearTimeout(this.#stallTimer);
    this.#stallTimer = undefined;
  }

  /**
   * The consumer has not asked for bytes for `drainTimeoutMs`: the client behind it is not
   * reading (a runtime asks as soon as the socket took the last chunk). A notice could not
   * reach it, so the stream errors instead: the subscription is released at once, and the
   * runtime, seeing the error, drops the response rather than keeping the socket forever.
   */
  readonly #stalled = (): void => {
    this.#stallTimer = undefined;
    if (this.#ended) return;
    this.#ended = true;
    this.#release();
    this.#controller?.error(
      new TimeoutError(
        `The event stream's consumer did not ask for more within drainTimeoutMs (${this.#options.drainTimeoutMs} ms); the stream was closed`,
      ),
    );
  };

  #clearTimer(): void {
    if (this.#timer === undefined) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}

/**
 * The bytes of one chunk. A chunk of one event frame is that frame itself, shared with the other
 * connections (no copy); several parts are copied into one array (a few writes, not many).
 */
class ChunkBuilder {
  #parts: Uint8Array[] = [];
  size = 0;

  add(part: Uint8Array): void {
    if (part.length === 0) return;
    this.#parts.push(part);
    this.size += part.length;
  }

  addText(text: string): void {
    if (text.length > 0) this.add(encoder.encode(text));
  }

  bytes(): Uint8Array {
    if (this.#parts.length === 1) return this.#parts[0]!;
    const out = new Uint8Array(this.size);
    let at = 0;
    for (const part of this.#parts) {
      out.set(part, at);
      at += part.length;
    }
    return out;
  }
}

/**
 * By shape, not `instanceof`: the CommonJS build of `busline/sse` carries its own copy of
 * the class, so an item from the `busline` entry would not be an instance of it.
 */
function isTruncation(item: Item): item is HistoryTruncated {
  return (item as Partial<HistoryTruncated>).kind === 'history_truncated';
}

function codeOf(error: unknown): unknown {
  return typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
}

function describeError(error: unknown): { code: string; message: string } {
  const code = codeOf(error);
  return {
    code: typeof code === 'string' ? code : 'INTERNAL',
    message: error instanceof Error ? error.message : String(error),
  };
}
