import type { Clock } from '../../src/clock.js';

/**
 * A fake clock with ordered timers, in the manner of `@sinonjs/fake-timers` (written here, not a
 * dependency). `sleep(ms)` registers a timer due at `now + ms`; timers fire in order of due time
 * (then of creation), and a fired timer sees `now()` equal to its due time. Two sleepers of 10 s
 * started together both wake at t+10 s, not t+20 s.
 *
 * Time moves in three ways:
 * - `advance(ms)` / `set(t)`: at once; every timer due by then is resolved in order (their
 *   continuations run afterwards, and all see the final time).
 * - `tickAsync(ms)` / `next()`: one due instant at a time, letting promises and `setImmediate`
 *   callbacks settle before the next, so each sleeper runs at its own time (as sinon's `tickAsync`).
 * - auto-advance (on by default): when the event loop has gone `idleTurns` turns without a timer
 *   being added, removed or fired (or a `sleep(0)` yielding), and timers are pending, the clock
 *   jumps to the earliest one.
 *   So code that only waits ("sleep advances time") runs at full speed with no test driving it.
 *   Real I/O in flight (a socket, a query) is invisible to the clock: while it is pending, time may
 *   jump as if the I/O were slow. Tests that need exact interleaving turn auto-advance off
 *   (`{ autoAdvance: false }`) and move time themselves.
 *
 * An aborted signal rejects the sleeper with its reason and removes its timer. `sleep(0)` (or a
 * past instant) registers nothing and resolves on the next turn of the event loop.
 * Pass the same instance to a sandbox server so both sides agree on the time.
 */
export interface FakeClockOptions {
  /** Jump to the earliest timer when nothing else happens (default true). */
  autoAdvance?: boolean;
  /** Event-loop turns without timer activity that count as idle (default 10). */
  idleTurns?: number;
}

interface Timer {
  due: number;
  seq: number;
  resolve: () => void;
  cleanup: () => void;
}

const DEFAULT_START = Date.parse('2026-01-15T12:00:00Z');

/** One turn of the event loop: microtasks drain, then I/O callbacks and `setImmediate`s run. */
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

export class FakeClock implements Clock {
  #now: number;
  #timers: Timer[] = [];
  #seq = 0;
  /** Bumped on every change of the timer list or the time; the idle watcher compares it. */
  #version = 0;
  #autoAdvance: boolean;
  #watching = false;
  readonly idleTurns: number;

  constructor(start: number | string = DEFAULT_START, options: FakeClockOptions = {}) {
    this.#now = typeof start === 'string' ? Date.parse(start) : start;
    this.#autoAdvance = options.autoAdvance ?? true;
    this.idleTurns = Math.max(1, options.idleTurns ?? 10);
  }

  now(): number {
    return this.#now;
  }

  get autoAdvance(): boolean {
    return this.#autoAdvance;
  }

  set autoAdvance(on: boolean) {
    this.#autoAdvance = on;
    if (on) this.#watch();
  }

  /** How many sleepers are waiting. */
  get pending(): number {
    return this.#timers.length;
  }

  /** Due time of the earliest sleeper, if any. */
  nextDue(): number | undefined {
    return this.#timers[0]?.due;
  }

  /**
   * Sets the time. Forward: as `advance` (due timers fire in order). Backward: pending timers keep
   * the time they have left to wait (their due times move back too).
   */
  set(ms: number | string): void {
    const to = typeof ms === 'string' ? Date.parse(ms) : ms;
    if (to >= this.#now) {
      this.advance(to - this.#now);
      return;
    }
    const delta = this.#now - to;
    for (const t of this.#timers) t.due -= delta;
    this.#now = to;
    this.#version++;
  }

  /** Moves time forward by `ms` at once, resolving every timer due by then, in order. */
  advance(ms: number): void {
    const target = this.#now + Math.max(0, ms);
    while (this.#timers.length > 0 && (this.#timers[0] as Timer).due <= target) this.#fireEarliest();
    this.#now = target;
    this.#version++;
  }

  /**
   * Moves time forward by `ms`, one due instant at a time: the timers due at the earliest instant
   * fire, promises settle, then the next. Timers set meanwhile fire too if due by the end.
   */
  async tickAsync(ms: number): Promise<void> {
    const target = this.#now + Math.max(0, ms);
    for (;;) {
      await this.settle();
      const first = this.#timers[0];
      if (!first || first.due > target) break;
      const due = first.due;
      while (this.#timers.length > 0 && (this.#timers[0] as Timer).due === due) this.#fireEarliest();
    }
    this.#now = target;
    this.#version++;
    await this.settle();
  }

  /**
   * Jumps to the earliest timer, fires every timer due at that instant and lets promises settle.
   * Returns false when no timer was pending.
   */
  async next(): Promise<boolean> {
    await this.settle();
    const first = this.#timers[0];
    if (!first) return false;
    const due = first.due;
    while (this.#timers.length > 0 && (this.#timers[0] as Timer).due === due) this.#fireEarliest();
    await this.settle();
    return true;
  }

  /** Lets `turns` turns of the event loop pass (promise chains and `setImmediate` callbacks run). */
  async settle(turns = this.idleTurns): Promise<void> {
    for (let i = 0; i < turns; i++) await turn();
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    const wait = Number.isFinite(ms) ? ms : 0;
    if (wait <= 0) {
      // A wait for a past instant only yields, as a real setTimeout(0) would. It counts as activity:
      // code that yields through the clock is busy, so auto-advance waits for it.
      this.#version++;
      return new Promise<void>((resolve, reject) => {
        setImmediate(() => (signal?.aborted ? reject(signal.reason) : resolve()));
      });
    }
    return new Promise<void>((resolve, reject) => {
      const timer: Timer = {
        due: this.#now + wait,
        seq: this.#seq++,
        resolve,
        cleanup: () => signal?.removeEventListener('abort', onAbort),
      };
      const onAbort = () => {
        this.#remove(timer);
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#insert(timer);
    });
  }

  #insert(timer: Timer): void {
    // Sorted by due time, then creation: the new timer goes after every timer due no later.
    let lo = 0;
    let hi = this.#timers.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.#timers[mid] as Timer).due <= timer.due) lo = mid + 1;
      else hi = mid;
    }
    this.#timers.splice(lo, 0, timer);
    this.#version++;
    this.#watch();
  }

  #remove(timer: Timer): void {
    const i = this.#timers.indexOf(timer);
    if (i < 0) return;
    this.#timers.splice(i, 1);
    this.#version++;
  }

  #fireEarliest(): void {
    const timer = this.#timers.shift() as Timer;
    if (timer.due > this.#now) this.#now = timer.due;
    this.#version++;
    timer.cleanup();
    timer.resolve();
  }

  /** The auto-advance loop: runs while timers are pending, jumps when the loop has been idle. */
  #watch(): void {
    if (!this.#autoAdvance || this.#watching) return;
    this.#watching = true;
    void (async () => {
      try {
        let seen = this.#version;
        let quiet = 0;
        while (this.#autoAdvance && this.#timers.length > 0) {
          await turn();
          if (this.#version !== seen) {
            seen = this.#version;
            quiet = 0;
            continue;
          }
          if (++quiet < this.idleTurns) continue;
          const due = (this.#timers[0] as Timer).due;
          while (this.#timers.length > 0 && (this.#timers[0] as Timer).due === due) this.#fireEarliest();
          seen = this.#version;
          quiet = 0;
        }
      } finally {
        this.#watching = false;
      }
    })();
  }
}
