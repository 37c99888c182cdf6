import type { Prng } from './prng.js';

/**
 * Captured at module load, before any run patches globalThis: the scheduler yields to the real
 * event loop through it so that every microtask a step started has run before the next step.
 */
const realSetImmediate = globalThis.setImmediate;

export interface Task {
  at: number;
  seq: number;
  /** Timers keep Node's order among themselves (deadline, then creation); other tasks do not. */
  timer: boolean;
  label: string;
  run: () => void;
  done: boolean;
}

/**
 * A discrete-event scheduler on virtual time. Every store operation's completion, every
 * virtual timer, every actor wake-up is a task. At each step it picks one task among those
 * due — at random, from the seed — runs it, and lets microtasks settle. When nothing is due it
 * jumps virtual time to the next task. One seed, one order: the run is reproducible.
 */
export class Scheduler {
  now = 0;
  steps = 0;
  /** A counter bumped by every recorded action: orders things that happen within one step. */
  #ordinal = 0;
  #seq = 0;
  readonly #tasks: Task[] = [];
  readonly trace: string[] = [];
  readonly #rng: Prng;
  readonly #tracing: boolean;
  /** Runs after every step (bounds checks). */
  afterStep: (() => void) | undefined;
  /** Failures inside tasks: the harness (or a callback the library made) threw. */
  readonly crashes: { label: string; error: unknown }[] = [];

  constructor(rng: Prng, tracing = true) {
    this.#rng = rng;
    this.#tracing = tracing;
  }

  tick(): number {
    return ++this.#ordinal;
  }

  get ordinal(): number {
    return this.#ordinal;
  }

  log(line: string): void {
    if (this.#tracing) this.trace.push(`t=${String(this.now).padStart(5)} #${this.steps} ${line}`);
  }

  schedule(delayMs: number, label: string, run: () => void, timer = false): Task {
    const task: Task = {
      at: this.now + Math.max(0, delayMs),
      seq: ++this.#seq,
      timer,
      label,
      run,
      done: false,
    };
    this.#tasks.push(task);
    return task;
  }

  cancel(task: Task | undefined): void {
    if (task === undefined || task.done) return;
    task.done = true;
    const i = this.#tasks.indexOf(task);
    if (i >= 0) this.#tasks.splice(i, 1);
  }

  /** Resolves after `ms` of virtual time (an actor's pause). */
  sleep(ms: number, label = 'sleep'): Promise<void> {
    return new Promise((resolve) => this.schedule(ms, label, resolve));
  }

  get pending(): number {
    return this.#tasks.length;
  }

  /**
   * Runs steps until no task is left at or before `until`. Time ends at `until` at most.
   */
  async runUntil(until: number): Promise<void> {
    for (;;) {
      // Whatever the caller or the last task set going runs first: it may schedule tasks.
      await settleMicrotasks();
      const task = this.#pick(until);
      if (task === undefined) {
        if (this.now < until) this.now = until;
        return;
      }
      task.done = true;
      this.steps++;
      this.log(task.label);
      try {
        task.run();
      } catch (error) {
        this.crashes.push({ label: task.label, error });
        this.log(`!! task ${task.label} threw: ${String(error)}`);
      }
      await settleMicrotasks();
      this.afterStep?.();
    }
  }

  /** A due task: the earliest timer or any other due task, chosen by the seed. */
  #pick(until: number): Task | undefined {
    const tasks = this.#tasks;
    if (tasks.length === 0) return undefined;
    let earliest = Number.POSITIVE_INFINITY;
    for (const t of tasks) if (t.at < earliest) earliest = t.at;
    if (earliest > until) return undefined;
    if (earliest > this.now) this.now = earliest;
    let timer: Task | undefined;
    const due: number[] = [];
    for (let i = 0; i < tasks.length; i++) {
      const t = tasks[i]!;
      if (t.at > this.now) continue;
      if (t.timer) {
        if (timer === undefined || t.at < timer.at || (t.at === timer.at && t.seq < timer.seq)) timer = t;
      } else due.push(i);
    }
    const choices = due.length + (timer ? 1 : 0);
    const k = this.#rng.int(0, choices - 1);
    const chosen = k < due.length ? tasks[due[k]!]! : timer!;
    tasks.splice(tasks.indexOf(chosen), 1);
    return chosen;
  }
}

/** Lets every queued microtask (and what they queue) run: one real macrotask turn. */
export function settleMicrotasks(): Promise<void> {
  return new Promise((resolve) => realSetImmediate(resolve));
}
