// busline's public build does not export its trie, index or dispatch pieces, yet the suite
// must time them alone (the match step against qlobber, the cost breakdown of one publish).
// esbuild bundles those internals straight from src/ on each run, so they are never stale.

import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outdir = path.join(root, 'bench', '.build');

const ENTRIES = {
  'subscription-index': 'src/pattern/subscription-index.ts',
  trie: 'src/pattern/trie.ts',
  parse: 'src/pattern/parse.ts',
  event: 'src/event.ts',
  'event-type': 'src/pattern/event-type.ts',
  dispatcher: 'src/subscription/dispatcher.ts',
  subscriber: 'src/subscription/subscriber.ts',
  'stream-counter': 'src/bus/stream-counter.ts',
  'buffered-subscription': 'src/subscription/buffered-subscription.ts',
  'event-stamper': 'src/publish/event-stamper.ts',
  'publish-gate': 'src/publish/publish-gate.ts',
  'json-size': 'src/json-size.ts',
  'double-hash': 'src/dedup/double-hash.ts',
  deduplicator: 'src/dedup/deduplicator.ts',
  'memory-event-store': 'src/store/memory/memory-event-store.ts',
  'memory-cursor': 'src/store/memory/memory-cursor.ts',
  'append-input': 'src/store/append-input.ts',
  'recent-ids': 'src/dedup/recent-ids.ts',
  'tick-clock': 'src/publish/tick-clock.ts',
};

/**
 * Bundles the internals (shared modules split into common chunks, one copy each) into
 * bench/.build: once per run, before the scenarios' processes import them (`importInternals`).
 */
export async function buildInternals() {
  rmSync(outdir, { recursive: true, force: true }); // chunk names change between builds
  mkdirSync(outdir, { recursive: true });
  await esbuild.build({
    absWorkingDir: root,
    entryPoints: Object.entries(ENTRIES).map(([out, inFile]) => ({ in: inFile, out })),
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    // Dependencies (bloom-filters) stay bare imports, resolved from the repo's node_modules like the real build.
    packages: 'external',
    outdir,
    outExtension: { '.js': '.mjs' },
    logLevel: 'warning',
  });
}

/** Imports the internals `buildInternals` bundled. */
export async function importInternals() {
  const load = (name) => import(pathToFileURL(path.join(outdir, `${name}.mjs`)).href);
  const [
    index,
    trie,
    parse,
    event,
    eventType,
    dispatcher,
    subscriber,
    streamCounter,
    buffered,
    stamper,
    gate,
    jsonSize,
    doubleHash,
    deduplicator,
    memoryStore,
    memoryCursor,
    appendInput,
    recentIds,
    tickClock,
  ] = await Promise.all(Object.keys(ENTRIES).map(load));
  return {
    SubscriptionIndex: index.SubscriptionIndex,
    PatternTrie: trie.PatternTrie,
    parsePattern: parse.parsePattern,
    tickClock: tickClock.tickClock,
    envelopeProblem: event.envelopeProblem,
    envelopeBytes: event.envelopeBytes,
    envelopeFits: event.envelopeFits,
    eventTypeProblem: eventType.eventTypeProblem,
    Dispatcher: dispatcher.Dispatcher,
    Subscriber: subscriber.Subscriber,
    StreamCounter: streamCounter.StreamCounter,
    BufferedSubscription: buffered.BufferedSubscription,
    EventStamper: stamper.EventStamper,
    PublishGate: gate.PublishGate,
    jsonByteLength: jsonSize.jsonByteLength,
    stringBytes: jsonSize.stringBytes,
    jsonByteBound: jsonSize.jsonByteBound,
    DoubleHash: doubleHash.DoubleHash,
    Deduplicator: deduplicator.Deduplicator,
    MemoryEventStore: memoryStore.MemoryEventStore,
    MemoryCursor: memoryCursor.MemoryCursor,
    checkAppendInput: appendInput.checkAppendInput,
    RecentIds: recentIds.RecentIds,
  };
}
