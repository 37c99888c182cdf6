// The peer libraries, imported once with their default/named export quirks smoothed out, so
// scenarios read the same whichever module format a peer ships.

import { EventEmitter as NodeEventEmitter, on as nodeOn } from 'node:events';
import { readFileSync } from 'node:fs';
import { Effect, PubSub, Stream } from 'effect';
import Emittery from 'emittery';
import eventemitter2 from 'eventemitter2';
import EventEmitter3 from 'eventemitter3';
import mitt from 'mitt';
import qlobber from 'qlobber';
import { EventEmitter as Tseep } from 'tseep';

export const EventEmitter2 = eventemitter2.EventEmitter2 ?? eventemitter2;
export const Qlobber = qlobber.Qlobber;
export { Effect, Emittery, EventEmitter3, mitt, NodeEventEmitter, nodeOn, PubSub, Stream, Tseep };

/** eventemitter2 configured for busline's pattern syntax: `.` separator, `*` and `**` wildcards. */
export function wildcardEmitter2() {
  return new EventEmitter2({ wildcard: true, delimiter: '.', maxListeners: 0, ignoreErrors: true });
}

/** qlobber configured for busline's syntax, with the split cache the issue asks for. */
export function busQlobber() {
  return new Qlobber({ separator: '.', wildcard_one: '*', wildcard_some: '**', cache_splits: true });
}

/** Versions for the report. */
export function peerVersions() {
  // Read from node_modules directly: several peers do not export their package.json.
  const names = ['eventemitter3', 'eventemitter2', 'tseep', 'mitt', 'emittery', 'qlobber', 'effect'];
  return names.map((name) => {
    const file = new URL(`../node_modules/${name}/package.json`, import.meta.url);
    return `${name} ${JSON.parse(readFileSync(file, 'utf8')).version}`;
  });
}
