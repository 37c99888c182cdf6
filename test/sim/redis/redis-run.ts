import { RedisEventStore } from '../../../src/redis/index.js';
import type { OwnRedis } from '../../redis/store/own-redis.js';
import { deletePrefix, type NodeRedisClient, uniquePrefix } from '../../redis/store/redis-fixtures.js';
import { BuslineError, EventBus, type StoredEvent, type Subscription } from '../lib.js';
import { Prng } from '../prng.js';
import { type CheckCoverage, checkRun, type FinalState, owedMissing, readAll } from './redis-check.js';
import {
  type BusRecord,
  code,
  describeError,
  type PublishRecord,
  RunModel,
  type SimEvent,
  type Start,
  type SubRecord,
  sleep,
} from './redis-model.js';
import {
  type BusConnections,
  connectClient,
  killAllNormalClients,
  killBusConnection,
  learnCommandId,
  within,
} from './redis-target.js';

/**
 * One seeded run against a real Redis: three buses (each with its own node-redis client and
 * RedisEventStore, as three processes would have) on one fresh prefix; publishers, handlers and
 * iterators doing what users do, on real timers; real faults at moments the seed picks. Then
 * everything drains, closes, and the checker compares what the actors saw with the store's log.
 *
 * The seed fixes the plan (who does what, when, which faults); the interleavings are Redis's
 * and the OS's, so a re-run of a seed is the same scenario, not the same schedule.
 */

export interface RunOptions {
  seed: number;
  /** The shared Redis (127.0.0.1:6379), or `own` for kill -9 runs. */
  url: string;
  /** A redis-server of the test's own (appendfsync always) that this run kills with SIGKILL mid-run. */
  own?: OwnRedis;
  /** Small retention: maxEventsPerStream and maxEvents low enough that replays and catch-ups hit HISTORY_TRUNCATED. */
  retention?: boolean;
  /** Actors start new actions until then (ms of real time). */
  horizonMs?: number;
  /** See FinalState.strict. */
  strict?: boolean;
}

export interface RunResult {
  seed: number;
  violations: { invariant: string; detail: string }[];
  summary: string;
  ms: number;
  /** What the run recorded and the state it was checked against (for the checker's self-test). */
  model: RunModel;
  final: FinalState | undefined;
}

/** The simulation's vocabulary (as in ../world.ts): types, patterns that overlap them in every way, streams. */
const TYPES = ['a.x', 'a.y', 'a.y.z', 'b.x', 'b.y'] as const;
const PATTERNS = ['a.*', 'a.**', '**', 'b.x', 'a.y.*', '*.x'] as const;
const STREAMS = ['s1', 's2', 's3'] as const;
const BUSES = 3;

/**
 * `url prefix` of runs under way: a run cut short (a test timeout) leaves its keys, which the
 * test's afterAll deletes (see `leftoverPrefixes`).
 */
const prefixesInUse = new Set<string>();

/** Prefixes of runs that never reached their own cleanup, by Redis URL. */
export function leftoverPrefixes(): { url: string; prefix: string }[] {
  return [...prefixesInUse].map((entry) => {
    const space = entry.indexOf(' ');
    return { url: entry.slice(0, space), prefix: entry.slice(space + 1) };
  });
}

function destroy(client: NodeRedisClient): void {
  try {
    client.destroy();
  } catch {
    // already closed
  }
}
const COMMAND_TIMEOUT_MS = 1000;
const FEED_TIMEOUT_MS = 2000;
const BLOCK_MS = 200;
/** The brief's generous bound on every publish. */
const PUBLISH_BOUND_MS = 20_000;
/** How long the run waits for every publish and its retries after the horizon (each attempt settles in ~3 s). */
const CHAINS_WAIT_MS = 25_000;
const RETENTION = { maxEventsPerStream: 8, maxEvents: 30 } as const;
const NO_RETENTION = { maxEventsPerStream: 100_000, maxEvents: 100_000 } as const;

/** Drops events whose number is a multiple of 3 (a filter of the role-check kind). */
function skipEveryThird(event: { data: unknown }): boolean {
  return (event.data as { n: number }).n % 3 !== 0;
}

interface World {
  opts: Required<Pick<RunOptions, 'seed' | 'url' | 'horizonMs'>> & RunOptions;
  model: RunModel;
  prefix: string;
  tag: string;
  admin: NodeRedisClient;
  /** The harness's own view of the store: fences and the final read. */
  adminStore: RedisEventStore;
  buses: {
    record: BusRecord;
    client: NodeRedisClient;
    connections: BusConnections;
    store: RedisEventStore;
    ready: Promise<void>;
  }[];
  /** Actors start nothing new. */
  calm: boolean;
  /** Buses are closing: loops that wait for Redis give up. */
  closing: boolean;
  calmed: Promise<void>;
  nextEvent: number;
  /** Cursors some actor has seen (acknowledged or delivered): resume points for new iterators. */
  cursorsSeen: string[];
  /** Publish chains (a publish and its retries), awaited before the drain. */
  chains: Promise<void>[];
  /** Publisher loops and planned actions, awaited before the drain. */
  actors: Promise<void>[];
  /** Subscriber loops (they read until their bus closes), awaited after closing. */
  subscribers: Promise<void>[];
  /** Buffer and handler-queue bounds already reported (once each). */
  reported: Set<string>;
}

export async function runSeed(options: RunOptions): Promise<RunResult> {
  const opts = { horizonMs: 2000, ...options };
  const started = performance.now();
  const model = new RunModel();
  const rng = new Prng(opts.seed);
  const tag = `s${opts.seed}-${process.pid}-${Math.floor(Math.random() * 1e6)}`;
  const prefix = uniquePrefix(`redis-sim-${opts.seed}`);
  const retention = opts.retention ? RETENTION : NO_RETENTION;
  const admin = await connectClient(opts.url, `busline-sim:${tag}:admin`);
  prefixesInUse.add(`${opts.url} ${prefix}`);
  const adminStore = new RedisEventStore({
    client: admin,
    prefix,
    commandTimeoutMs: COMMAND_TIMEOUT_MS,
    ...retention,
  });
  let resolveCalm!: () => void;
  const world: World = {
    opts,
    model,
    prefix,
    tag,
    admin,
    adminStore,
    buses: [],
    calm: false,
    closing: false,
    calmed: new Promise<void>((resolve) => {
      resolveCalm = resolve;
    }),
    nextEvent: 1,
    cursorsSeen: [],
    chains: [],
    actors: [],
    subscribers: [],
    reported: new Set(),
  };
  /** REDIS_SIM_TRACE=1: the run's phases and faults as they happen. */
  const trace = (what: string) =>
    process.env.REDIS_SIM_TRACE && console.log(`[seed ${opts.seed} t=${model.now()}] ${what}`);
  const restoreRejections = captureUnhandledRejections(model.unhandled);
  const sampler = setInterval(() => checkBounds(world), 5);
  let final: FinalState | undefined;
  let coverage: CheckCoverage | undefined;
  try {
    // ---- the buses and their actors ----
    for (let i = 0; i < BUSES; i++) await startBus(world, i, rng.fork(), retention);
    for (const [i, b] of world.buses.entries()) {
      const actorRng = rng.fork();
      const publishers = actorRng.int(1, 2);
      for (let p = 0; p < publishers; p++) world.actors.push(publisher(world, b.record, p, actorRng.fork()));
      const subscribers = actorRng.int(2, 4);
      for (let s = 0; s < subscribers; s++)
        world.subscribers.push(subscriber(world, b.record, `bus${i}.sub${s}`, actorRng.fork()));
    }
    const faults = planFaults(world, rng.fork());

    // ---- horizon: no new actions ----
    await sleep(opts.horizonMs);
    world.calm = true;
    trace('horizon');
    resolveCalm();
    await faults;
    await Promise.all(world.actors);
    trace(`faults done: ${model.faults.map((f) => f.what).join('; ')}`);
    // Every publish (and its retries) settles; each was bounded by PUBLISH_BOUND_MS (checked below).
    await within(Promise.all(world.chains), CHAINS_WAIT_MS, 'publish chains').catch(() => {
      model.violate(
        'publish-settles',
        `some publishes (or their retries) had not settled ${CHAINS_WAIT_MS / 1000} s after the horizon`,
      );
    });

    trace('every publish settled');
    // ---- drain: subscriptions that kept consuming catch up with the log ----
    const log = await retry(() => readAll(adminStore), 'reading the log');
    await waitForCatchUp(world, log);

    trace('drained');
    // ---- close: readers, then buses, stores and clients ----
    world.closing = true;
    const checkpoint = new Set(model.subs.filter((s) => s.endedSeq === undefined));
    for (const sub of model.subs) if (sub.endedSeq === undefined) sub.subscription?.close();
    for (const b of world.buses) {
      model.track(`bus${b.record.index}.close()`, b.record.bus.close(), 15_000);
    }
    await within(Promise.all(world.buses.map((b) => b.record.bus.close())), 15_000, 'bus.close()').catch(
      () => {},
    );
    for (const sub of model.subs) {
      if (sub.reader !== undefined) model.track(`${sub.key} reader loop ends after close`, sub.reader, 5000);
    }
    await within(
      Promise.all([...model.subs.map((s) => s.reader), ...world.subscribers]),
      5000,
      'readers',
    ).catch(() => {});
    for (const sub of model.subs) {
      if (sub.subscription !== undefined)
        model.track(`${sub.key}.next() after close`, sub.subscription.next(), 2000);
    }
    for (const b of world.buses) {
      await b.store.close();
      destroy(b.client);
    }
    await sleep(50);

    trace('closed');
    // ---- check against the store's own log ----
    final = {
      log: await retry(() => readAll(adminStore), 'reading the log'),
      streams: new Map(),
      retention: opts.retention === true,
      checkpoint,
      strict: opts.strict === true,
    };
    if (opts.retention) {
      for (const stream of STREAMS)
        final.streams.set(stream, await retry(() => readAll(adminStore, stream), `reading stream ${stream}`));
    }
    coverage = checkRun(model, final);
    for (const sub of model.subs)
      if (sub.endReason?.startsWith('error'))
        trace(`${sub.key} ('${sub.pattern}' from ${JSON.stringify(sub.start)}) ended: ${sub.endReason}`);
  } finally {
    clearInterval(sampler);
    restoreRejections();
    world.closing = true;
    for (const b of world.buses) {
      await b.store.close().catch(() => {});
      destroy(b.client);
    }
    await adminStore.close();
    await deletePrefix(admin, prefix).catch(() => {});
    destroy(admin);
    prefixesInUse.delete(`${opts.url} ${prefix}`);
  }
  const acked = model.publishes.reduce(
    (sum, p) => sum + (p.results?.filter((r) => r.status === 'delivered').length ?? 0),
    0,
  );
  const duplicates = model.publishes.reduce(
    (sum, p) => sum + (p.results?.filter((r) => r.status === 'duplicate').length ?? 0),
    0,
  );
  const failures = count(
    model.publishes
      .filter((p) => p.error !== undefined)
      .map((p) => {
        const applied = (p.error as { mayHaveApplied?: boolean }).mayHaveApplied;
        return `${code(p.error) ?? 'untyped'}${applied === undefined ? '' : ` mayHaveApplied=${applied}`}`;
      }),
  );
  // Retries answered 'duplicate': an earlier attempt that failed had been applied after all.
  const appliedThoughFailed = model.publishes.filter(
    (p) => p.key.endsWith('#0') === false && p.results?.some((r) => r.status === 'duplicate'),
  ).length;
  const truncations = model.subs.reduce((sum, s) => sum + s.truncations.length, 0);
  const ends = count(
    model.subs
      .filter((s) => s.endReason !== undefined && !(final?.checkpoint.has(s) ?? false))
      .map((s) => s.endReason!.replace(/: .*/, '')),
  );
  const ms = Math.round(performance.now() - started);
  const summary = [
    `seed ${opts.seed}${opts.own ? ' (kill -9)' : ''}${opts.retention ? ' (small retention)' : ''}: ${ms} ms`,
    `${final?.log.length ?? '?'} events in the log; ${model.publishes.length} publish calls: ${acked} delivered, ${duplicates} duplicate, rejected: ${failures || 'none'}; ${appliedThoughFailed} retries answered 'duplicate'`,
    `${model.subs.length} subscriptions (${model.subs.filter((s) => s.kind === 'iterator').length} iterators, ${model.subs.filter((s) => typeof s.start === 'object').length} resumed from a cursor; ended before the checkpoint: ${ends || 'none'}), ${model.subs.reduce((n, s) => n + s.delivered.length, 0)} deliveries, ${truncations} truncations told`,
    `checked: ${coverage?.completeSubs ?? '?'} subscriptions open and consuming at the checkpoint; ${coverage?.owedChecked ?? '?'} owed (subscription, event) pairs`,
    `faults: ${model.faults.map((f) => `t=${f.at} ${f.what}`).join('; ') || 'none'}`,
  ].join('\n  ');
  return { seed: opts.seed, violations: model.violations, summary, ms, model, final };
}

// ---------------------------------------------------------------------------------------------
// buses

async function startBus(
  world: World,
  index: number,
  rng: Prng,
  retention: { maxEventsPerStream: number; maxEvents: number },
): Promise<void> {
  const { model } = world;
  await sleep(rng.int(0, 100));
  const name = `busline-sim:${world.tag}:bus${index}`;
  const client = await connectClient(world.opts.url, name);
  const connections: BusConnections = { client, name, commandId: undefined };
  await learnCommandId(connections);
  const store = new RedisEventStore({
    client,
    prefix: world.prefix,
    commandTimeoutMs: COMMAND_TIMEOUT_MS,
    blockMs: BLOCK_MS,
    ...retention,
  });
  const record: BusRecord = {
    index,
    name,
    bus: undefined as unknown as EventBus,
    errors: [],
    handlerSubs: [],
    readyAt: undefined,
  };
  record.bus = new EventBus({
    store,
    feedTimeoutMs: FEED_TIMEOUT_MS,
    onError: (error, context) => {
      record.errors.push({
        seq: model.tick(),
        code: code(error),
        source: context.source,
        patterns: context.patterns,
        message: (error as Error)?.message ?? String(error),
      });
      const simulated = (error as Error)?.message?.startsWith('simulated');
      if (!simulated && !(error instanceof BuslineError))
        model.violate('typed-errors', `bus${index} onError(${context.source}) got ${describeError(error)}`);
    },
  });
  model.buses[index] = record;
  const ready = readyLoop(world, record);
  world.buses[index] = { record, client, connections, store, ready };
}

/** `await bus.ready()` until it resolves (it rejects STORE_UNAVAILABLE after its timeout while Redis is away). */
async function readyLoop(world: World, record: BusRecord): Promise<void> {
  while (!world.closing) {
    try {
      await world.model.track(
        `bus${record.index}.ready()`,
        record.bus.ready({ timeoutMs: FEED_TIMEOUT_MS }),
        FEED_TIMEOUT_MS + 2000,
        'ready-bounded',
      );
      record.readyAt ??= world.model.now();
      return;
    } catch (error) {
      checkTyped(world, `bus${record.index}.ready()`, error);
      await sleep(100);
    }
  }
}

/** Waits for the bus to be connected (its first `ready()`), but not past the horizon. */
async function connected(world: World, record: BusRecord): Promise<void> {
  await Promise.race([world.buses[record.index]!.ready, world.calmed]);
}

function checkTyped(world: World, where: string, error: unknown): void {
  if (!(error instanceof BuslineError) || typeof error.code !== 'string')
    world.model.violate('typed-errors', `${where} rejected with a non-BuslineError: ${describeError(error)}`);
}

// ---------------------------------------------------------------------------------------------
// publishers

function newEvent(world: World, rng: Prng): SimEvent {
  const n = world.nextEvent++;
  const event = { id: `${world.tag}-e${n}`, type: rng.pick(TYPES), stream: rng.pick(STREAMS), data: { n } };
  world.model.attempted.set(event.id, event);
  return event;
}

async function publisher(world: World, record: BusRecord, p: number, rng: Prng): Promise<void> {
  const name = `bus${record.index}.pub${p}`;
  await sleep(rng.int(0, 300));
  // Most wait to be connected; the others publish at once (their own subscribers get it anyway).
  if (rng.chance(0.7)) await connected(world, record);
  while (!world.calm) {
    const earlier = [...world.model.attempted.values()];
    let events: SimEvent[];
    const r = rng.float();
    if (earlier.length > 0 && r < 0.1) {
      // A client's replay of an earlier event, as it was: stored once, answered 'duplicate'.
      events = [rng.pick(earlier)];
    } else if (r < 0.3) {
      events = Array.from({ length: rng.int(2, 4) }, () => newEvent(world, rng));
      // Now and then an earlier id inside a batch.
      if (earlier.length > 0 && rng.chance(0.2))
        events.splice(rng.int(0, events.length), 0, rng.pick(earlier));
    } else events = [newEvent(world, rng)];
    const batch = events.length > 1 || rng.chance(0.1);
    const chain = publishChain(world, record, name, events, batch, rng.fork());
    world.chains.push(chain);
    if (rng.chance(0.05)) {
      // The same events from another bus at the same moment: the store keeps one.
      const other = world.buses[(record.index + rng.int(1, BUSES - 1)) % BUSES]!.record;
      world.chains.push(publishChain(world, other, `${name}(twin)`, events, batch, rng.fork()));
    }
    if (rng.chance(0.05)) {
      // An impatient client: the same publish again before the first settled.
      world.chains.push(publishChain(world, record, `${name}(again)`, events, batch, rng.fork()));
    }
    if (rng.chance(0.7)) await chain; // else fire and forget: publishes overlap
    await sleep(rng.int(5, 120));
  }
}

/** A publish, retried with the same ids after a failure (a few times: through an outage in kill -9 runs). */
async function publishChain(
  world: World,
  record: BusRecord,
  name: string,
  events: SimEvent[],
  batch: boolean,
  rng: Prng,
): Promise<void> {
  const { model } = world;
  const attempts = world.opts.own ? 8 : 4;
  for (let attempt = 0; attempt < attempts; attempt++) {
    const entry: PublishRecord = {
      key: `${name}/${events.map((e) => e.id.slice(world.tag.length + 1)).join('+')}#${attempt}`,
      bus: record.index,
      events,
      batch,
      calledSeq: model.tick(),
      startedAt: model.now(),
      settledAt: undefined,
      settledSeq: undefined,
      results: undefined,
      error: undefined,
    };
    model.publishes.push(entry);
    try {
      const sending = batch
        ? record.bus.publishBatch(events)
        : record.bus.publish(events[0]!).then((result) => [result]);
      const results = await model.track(`${entry.key}`, sending, PUBLISH_BOUND_MS, 'publish-settles');
      entry.settledAt = model.now();
      entry.settledSeq = model.tick();
      entry.results = results.map((r) => ({ id: r.id, status: r.status, cursor: r.cursor }));
      for (const r of results) if (r.cursor !== undefined) world.cursorsSeen.push(r.cursor);
      return;
    } catch (error) {
      entry.settledAt = model.now();
      entry.settledSeq = model.tick();
      entry.error = error;
      checkTyped(world, `${entry.key} publish`, error);
      if (world.closing) return;
      await sleep(rng.int(50, 300));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// subscribers

function newSub(
  world: World,
  record: BusRecord,
  key: string,
  kind: SubRecord['kind'],
  rng: Prng,
  start: Start,
  behavior: string,
): SubRecord {
  const sub: SubRecord = {
    key,
    bus: record.index,
    kind,
    pattern: rng.pick(PATTERNS),
    stream: rng.chance(0.2) ? rng.pick(STREAMS) : undefined,
    filter: rng.chance(0.15) ? skipEveryThird : undefined,
    start,
    registeredSeq: 0,
    fence: undefined,
    delivered: [],
    truncations: [],
    endedSeq: undefined,
    endReason: undefined,
    bufferSize: 0,
    concurrency: 1,
    maxPending: 0,
    subscription: undefined,
    reader: undefined,
    behavior,
  };
  world.model.subs.push(sub);
  return sub;
}

function deliver(world: World, sub: SubRecord, event: StoredEvent): void {
  sub.delivered.push({
    cursor: event.cursor,
    id: event.id,
    type: event.type,
    stream: event.stream,
    n: (event.data as { n: number }).n,
    seq: world.model.tick(),
  });
  world.cursorsSeen.push(event.cursor);
}

function end(world: World, sub: SubRecord, reason: string): void {
  if (sub.endedSeq !== undefined) return;
  sub.endedSeq = world.model.tick();
  sub.endReason = reason;
}

/**
 * "Connected" for a live subscription: registered, then `await bus.ready()` resolved. The fence is
 * the newest cursor of the log read after that: every matching event after it is owed. (Events
 * stored between the moment it was connected and the read are not asked for: a little lenient,
 * never wrong.)
 */
async function takeFence(world: World, record: BusRecord, sub: SubRecord): Promise<void> {
  await readyAfter(world, record);
  while (!world.closing) {
    try {
      const page = await world.adminStore.read({ direction: 'backward', limit: 1 });
      sub.fence = page.events[0]?.cursor ?? null;
      return;
    } catch {
      await sleep(100);
    }
  }
}

async function readyAfter(world: World, record: BusRecord): Promise<void> {
  while (!world.closing) {
    try {
      await world.model.track(
        `bus${record.index}.ready() after ${world.model.seq}`,
        record.bus.ready({ timeoutMs: FEED_TIMEOUT_MS }),
        FEED_TIMEOUT_MS + 2000,
        'ready-bounded',
      );
      return;
    } catch (error) {
      checkTyped(world, `bus${record.index}.ready()`, error);
      await sleep(100);
    }
  }
}

async function subscriber(world: World, record: BusRecord, name: string, rng: Prng): Promise<void> {
  await sleep(rng.int(0, 1500));
  if (rng.chance(0.7)) await connected(world, record);
  if (world.calm) return;
  if (rng.chance(0.4)) handlerSubscriber(world, record, name, rng);
  else await iteratorSubscriber(world, record, name, rng, undefined, 0);
}

function handlerSubscriber(world: World, record: BusRecord, name: string, rng: Prng): void {
  const behavior = rng.pick(['sync', 'sync', 'slow', 'slow', 'slow', 'failing']);
  const sub = newSub(world, record, `${name}.on(${behavior})`, 'handler', rng, 'now', behavior);
  sub.concurrency = rng.chance(0.3) ? 2 : 1;
  sub.maxPending = rng.int(1, 4);
  record.handlerSubs.push(sub);
  const handlerRng = rng.fork();
  const handler = (event: StoredEvent): unknown => {
    deliver(world, sub, event);
    switch (behavior) {
      case 'slow':
        return sleep(handlerRng.int(1, 40));
      case 'failing':
        if (handlerRng.chance(0.3)) throw new Error('simulated handler failure');
        return handlerRng.chance(0.5)
          ? sleep(handlerRng.int(1, 20)).then(() => {
              throw new Error('simulated async handler failure');
            })
          : undefined;
      default:
        return undefined;
    }
  };
  const off = record.bus.on(sub.pattern, handler, {
    stream: sub.stream,
    filter: sub.filter,
    concurrency: sub.concurrency,
    maxPending: sub.maxPending,
  });
  sub.registeredSeq = world.model.tick();
  void takeFence(world, record, sub);
  if (rng.chance(0.15)) {
    const at = rng.int(100, 1500);
    world.actors.push(
      sleep(at).then(() => {
        if (world.calm) return;
        off();
        end(world, sub, 'unsubscribed');
      }),
    );
  }
}

async function iteratorSubscriber(
  world: World,
  record: BusRecord,
  name: string,
  rng: Prng,
  resume: Start | undefined,
  generation: number,
): Promise<void> {
  let start: Start;
  if (resume !== undefined) start = resume;
  else {
    const r = rng.float();
    if (r < 0.25 && world.cursorsSeen.length > 0) start = { after: rng.pick(world.cursorsSeen) };
    else if (r < 0.5) start = 'start';
    else start = 'now';
  }
  const mode = rng.pick(['fast', 'fast', 'slow', 'pause']);
  const key = `${name}${generation ? `.re${generation}` : ''}.it(${mode})`;
  const sub = newSub(world, record, key, 'iterator', rng, start, mode);
  sub.bufferSize = rng.int(2, 8);
  const onTruncated = rng.pick([undefined, undefined, 'throw', 'signal'] as const);
  const controller = new AbortController();
  const subscription = record.bus.subscribe(sub.pattern, {
    from: start === 'now' ? 'now' : start === 'start' ? 'start' : { after: start.after },
    stream: sub.stream,
    filter: sub.filter,
    bufferSize: sub.bufferSize,
    onTruncated,
    signal: controller.signal,
  }) as Subscription<unknown>;
  sub.registeredSeq = world.model.tick();
  sub.subscription = subscription;
  if (start === 'now') void takeFence(world, record, sub);

  // Some readers leave early, the ways a user would, and come back after their last cursor.
  let leftEarly = false;
  if (rng.chance(0.3)) {
    const how = rng.pick(['close', 'return', 'abort']);
    const at = rng.int(100, 1500);
    world.actors.push(
      sleep(at).then(() => {
        if (world.calm || sub.endedSeq !== undefined) return;
        leftEarly = true;
        end(world, sub, how);
        if (how === 'close') subscription.close();
        else if (how === 'return') void subscription.return?.();
        else controller.abort();
      }),
    );
  }

  sub.reader = readLoop(world, sub, subscription, mode, rng.fork());
  await sub.reader;
  const failed = sub.endReason?.startsWith('error') === true;
  if ((leftEarly || failed) && generation < 3 && !world.calm && rng.chance(0.8)) {
    await sleep(rng.int(0, 200));
    if (world.calm) return;
    const last = sub.delivered.at(-1)?.cursor ?? (typeof start === 'object' ? start.after : undefined);
    // After a truncation, start over from what the store has; else resume after the last cursor.
    const next: Start =
      sub.truncations.length > 0 ? rng.pick(['start', 'now'] as const) : last ? { after: last } : 'now';
    await iteratorSubscriber(world, record, name, rng, next, generation + 1);
  }
}

/** A `for await` at the mode's pace, recording what it gets; ends when the iteration does. */
async function readLoop(
  world: World,
  sub: SubRecord,
  subscription: Subscription<unknown>,
  mode: string,
  rng: Prng,
): Promise<void> {
  const pauseAfter = rng.int(0, 6);
  const pauseMs = rng.int(300, 1200);
  for (let count = 0; ; count++) {
    if (mode === 'pause' && count === pauseAfter && !world.calm) await sleep(pauseMs);
    let result: IteratorResult<unknown>;
    try {
      result = await subscription.next();
    } catch (error) {
      const position =
        sub.delivered.at(-1)?.cursor ?? (typeof sub.start === 'object' ? sub.start.after : undefined);
      if (code(error) === 'HISTORY_TRUNCATED')
        sub.truncations.push({ seq: world.model.tick(), how: 'error', position });
      end(world, sub, `error ${describeError(error)}`);
      checkTyped(world, `${sub.key}.next()`, error);
      return;
    }
    checkBufferOf(world, sub);
    if (result.done) {
      end(world, sub, sub.endReason ?? 'done');
      return;
    }
    const value = result.value as StoredEvent | { kind?: string };
    if ((value as { kind?: string }).kind === 'history_truncated') {
      const position =
        sub.delivered.at(-1)?.cursor ?? (typeof sub.start === 'object' ? sub.start.after : undefined);
      sub.truncations.push({ seq: world.model.tick(), how: 'value', position });
      continue;
    }
    deliver(world, sub, value as StoredEvent);
    if (mode === 'slow') await sleep(rng.int(1, 25));
  }
}

// ---------------------------------------------------------------------------------------------
// bounds, sampled every few ms

function checkBufferOf(world: World, sub: SubRecord): void {
  if (sub.subscription === undefined || world.reported.has(sub.key)) return;
  const { buffered } = sub.subscription.stats();
  if (buffered > sub.bufferSize) {
    world.reported.add(sub.key);
    world.model.violate(
      'buffer-bounded',
      `${sub.key} held ${buffered} events with bufferSize ${sub.bufferSize}`,
    );
  }
}

function checkBounds(world: World): void {
  for (const sub of world.model.subs) checkBufferOf(world, sub);
  for (const record of world.model.buses) {
    if (record === undefined || record.handlerSubs.length === 0 || world.reported.has(record.name)) continue;
    // Per handler subscription: `concurrency` calls running (even after off()), one catch-up
    // read, and `maxPending` queued while it is subscribed.
    let bound = 0;
    for (const sub of record.handlerSubs)
      bound += sub.concurrency + 1 + (sub.endedSeq === undefined ? sub.maxPending : 0);
    const pending = record.bus.stats().pendingHandlers;
    if (pending > bound) {
      world.reported.add(record.name);
      world.model.violate(
        'handler-queue-bounded',
        `bus${record.index} had ${pending} pending handler calls; its handler subscriptions allow ${bound}`,
      );
    }
  }
}

// ---------------------------------------------------------------------------------------------
// faults

async function planFaults(world: World, rng: Prng): Promise<void> {
  const { model, opts } = world;
  const plans: Promise<void>[] = [];
  if (opts.own !== undefined) {
    const own = opts.own;
    const at = rng.int(500, 1200);
    const downMs = rng.int(300, 900);
    plans.push(
      sleep(at).then(async () => {
        const ackedBefore = new Set<string>();
        for (const p of model.publishes)
          for (const r of p.results ?? []) if (r.cursor !== undefined) ackedBefore.add(r.cursor);
        model.faults.push({
          at: model.now(),
          what: `kill -9 redis-server (${ackedBefore.size} acks so far)`,
        });
        await own.kill();
        await sleep(downMs);
        await own.start();
        model.faults.push({ at: model.now(), what: 'redis-server restarted (same port and AOF dir)' });
        // Straight after the restart, before anything else is written: every acknowledged event is there.
        const log = await retry(() => readAll(world.adminStore), 'reading the log after the restart');
        const stored = new Set(log.map((e) => e.cursor));
        model.kills.push({
          ackedBefore,
          missingAfterRestart: [...ackedBefore].filter((c) => !stored.has(c)),
        });
      }),
    );
  }
  const kills = rng.int(1, 3);
  for (let k = 0; k < kills; k++) {
    const at = rng.int(200, opts.horizonMs - 200);
    const target = world.buses[rng.int(0, BUSES - 1)]!;
    const which = rng.chance(0.6) ? 'blocking' : 'command';
    const everyone = opts.own !== undefined && rng.chance(0.3);
    const burstRng = rng.fork();
    plans.push(
      sleep(at).then(async () => {
        try {
          if (everyone) {
            const n = await killAllNormalClients(world.admin);
            model.faults.push({ at: model.now(), what: `CLIENT KILL TYPE normal (${n} connections)` });
          } else {
            // Killing the command connection while it is idle hurts nobody: first put a burst of
            // appends in flight on it, then kill it a moment later (replies may be lost after
            // Redis applied the script: the publishes fail, and their retries are duplicates).
            const burst = async () => {
              if (which !== 'command' || world.calm) return;
              const count = burstRng.int(2, 6);
              for (let b = 0; b < count; b++) {
                const events = Array.from({ length: burstRng.int(1, 3) }, () => newEvent(world, burstRng));
                world.chains.push(
                  publishChain(
                    world,
                    target.record,
                    `fault.burst${k}`,
                    events,
                    events.length > 1,
                    burstRng.fork(),
                  ),
                );
              }
              const waitMs = burstRng.int(0, 2);
              await new Promise((resolve) =>
                waitMs === 0 ? setImmediate(resolve) : setTimeout(resolve, waitMs),
              );
            };
            const ids = await killBusConnection(world.admin, target.connections, which, burst);
            model.faults.push({
              at: model.now(),
              what: `CLIENT KILL ID of bus${target.record.index}'s ${which} connection: ${ids.join(', ') || 'none open'}`,
            });
          }
        } catch (error) {
          model.faults.push({ at: model.now(), what: `client kill not done: ${describeError(error)}` });
        }
      }),
    );
  }
  await Promise.all(plans);
}

// ---------------------------------------------------------------------------------------------
// drain

/** Waits (at most 10 s) until every open subscription holds every event the checker will ask of it. */
async function waitForCatchUp(world: World, log: StoredEvent[]): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const open = world.model.subs.filter((s) => s.endedSeq === undefined);
    const behind = open.filter(
      (s) => (s.start === 'now' && s.fence === undefined) || owedMissing(world.model, s, log) > 0,
    );
    if (behind.length === 0 || Date.now() > deadline) return;
    await sleep(50);
  }
}

async function retry<T>(call: () => Promise<T>, what: string): Promise<T> {
  let last: unknown;
  for (let i = 0; i < 100; i++) {
    try {
      return await call();
    } catch (error) {
      last = error;
      await sleep(100);
    }
  }
  throw new Error(`${what} kept failing: ${describeError(last)}`);
}

function count(items: string[]): string {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(item, (counts.get(item) ?? 0) + 1);
  return [...counts].map(([item, n]) => `${item} ×${n}`).join(', ');
}

/**
 * Rejections nobody handled during the run are the library's (the actors handle theirs). The
 * test runner's own listener is set aside meanwhile, so they are counted, not fatal.
 */
function captureUnhandledRejections(into: unknown[]): () => void {
  const saved = process.listeners('unhandledRejection');
  process.removeAllListeners('unhandledRejection');
  const listener = (reason: unknown) => into.push(reason);
  process.on('unhandledRejection', listener);
  return () => {
    process.off('unhandledRejection', listener);
    for (const l of saved) process.on('unhandledRejection', l);
  };
}
