import type { EventInput, StoredEvent } from '../event.js';

/**
 * Maps each event type to its `data`: `{ 'task.created': { id: string }, 'task.done': { id: string } }`.
 * The default, `Record<string, unknown>`, accepts any type with `data: unknown`.
 */
export type EventMap = Record<string, unknown>;

type Split<S extends string> = S extends `${infer Head}.${infer Rest}` ? [Head, ...Split<Rest>] : [S];

/** Type-level twin of the runtime matcher: `*` is one segment, `**` zero or more. */
type SegmentsMatch<P extends string[], T extends string[]> = P extends []
  ? T extends []
    ? true
    : false
  : P extends ['**', ...infer PRest extends string[]]
    ? SegmentsMatch<PRest, T> extends true
      ? true
      : T extends [string, ...infer TRest extends string[]]
        ? SegmentsMatch<P, TRest>
        : false
    : P extends [infer PHead extends string, ...infer PRest extends string[]]
      ? T extends [infer THead extends string, ...infer TRest extends string[]]
        ? PHead extends '*' | THead
          ? SegmentsMatch<PRest, TRest>
          : false
        : false
      : false;

/**
 * The event types of `Events` that pattern `P` matches (all of them when `P` is just `string`).
 * A union of patterns (an array passed to `on`) is matched one pattern at a time.
 */
export type TypesMatching<Events extends EventMap, P extends string> = string extends P
  ? keyof Events & string
  : P extends string
    ? {
        [K in keyof Events & string]: SegmentsMatch<Split<P>, Split<K>> extends true ? K : never;
      }[keyof Events & string]
    : never;

/** The stored event a handler for pattern `P` receives: a union over the matching types. */
export type EventMatching<Events extends EventMap, P extends string> = string extends keyof Events
  ? StoredEvent<string, Events[string]>
  : { [K in TypesMatching<Events, P>]: StoredEvent<K, Events[K]> }[TypesMatching<Events, P>];

/** A pattern, with the map's types offered for completion while any string stays allowed. */
export type PatternOf<Events extends EventMap> = (keyof Events & string) | (string & {});

/** Any event of the map: the union over its types (any stored event for the open default map). */
export type AnyEventOf<Events extends EventMap> = string extends keyof Events
  ? StoredEvent<string, Events[string]>
  : { [K in keyof Events & string]: StoredEvent<K, Events[K]> }[keyof Events & string];

/** What `publish` accepts for type `K`. */
export type PublishInput<Events extends EventMap, K extends keyof Events & string> = EventInput<K, Events[K]>;
