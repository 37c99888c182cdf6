import type { Scheduler, Task } from './scheduler.js';

/**
 * A handle shaped enough like Node's Timeout for the library (ref/unref/hasRef/refresh, and a
 * number when coerced), so code typed with ReturnType<typeof setTimeout> works unchanged.
 */
class VirtualTimer {
  task: Task | undefined;
  constructor(readonly id: number) {}
  ref(): this {
    return this;
  }
  unref(): this {
    return this;
  }
  hasRef(): boolean {
    return true;
  }
  refresh(): this {
    return this;
  }
  [Symbol.toPrimitive](): number {
    return this.id;
  }
}

/**
 * Replaces the global timers with ones on the scheduler's virtual clock, for one run. The bus
 * sets timers internally (feed retry pauses, feedTimeoutMs, ready/once timeouts); on virtual
 * time they fire in an order the seed decides, and a run of minutes takes milliseconds.
 * Returns the function that puts the real timers back.
 */
export function installVirtualTime(scheduler: Scheduler): () => void {
  const g = globalThis as unknown as Record<string, unknown>;
  const saved = {
    setTimeout: g.setTimeout,
    clearTimeout: g.clearTimeout,
    setInterval: g.setInterval,
    clearInterval: g.clearInterval,
  };
  let nextId = 1;
  const byId = new Map<number, VirtualTimer>();

  const arm = (timer: VirtualTimer, ms: number, fn: () => void, repeat: boolean): void => {
    // Node clamps delays below 1 ms (and non-numbers) to 1 ms.
    const delay = Number.isFinite(ms) && ms >= 1 ? Math.floor(ms) : 1;
    timer.task = scheduler.schedule(
      delay,
      `timer ${timer.id} (${delay} ms)`,
      () => {
        if (repeat) arm(timer, delay, fn, true);
        else byId.delete(timer.id);
        fn();
      },
      true,
    );
  };
  const start =
    (repeat: boolean) =>
    (fn: (...args: unknown[]) => void, ms?: number, ...args: unknown[]): VirtualTimer => {
      const timer = new VirtualTimer(nextId++);
      byId.set(timer.id, timer);
      arm(timer, ms ?? 0, () => fn(...args), repeat);
      return timer;
    };
  const clear = (handle: unknown): void => {
    const timer =
      handle instanceof VirtualTimer ? handle : typeof handle === 'number' ? byId.get(handle) : undefined;
    if (timer === undefined) return;
    byId.delete(timer.id);
    scheduler.cancel(timer.task);
  };

  g.setTimeout = start(false);
  g.setInterval = start(true);
  g.clearTimeout = clear;
  g.clearInterval = clear;
  return () => Object.assign(g, saved);
}
