/**
 * The one place the simulation imports the library from, so the same harness can be pointed
 * at another checkout (e.g. a snapshot of HEAD) by replacing this single line.
 */
export * from '../../src/index.js';
