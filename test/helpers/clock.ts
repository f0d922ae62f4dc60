import type { Clock } from '../../src/clock.js';

/**
 * A fake clock. `sleep(ms)` moves this clock forward by `ms` and resolves on the next turn of the
 * event loop, so code that waits (rate limiters, retries) runs at full speed in tests while seeing
 * time pass. Pass the same instance to a sandbox server so both sides agree on the time.
 */
export class FakeClock implements Clock {
  constructor(private current = Date.parse('2026-01-15T12:00:00Z')) {}
  now(): number {
    return this.current;
  }
  set(ms: number | string): void {
    this.current = typeof ms === 'string' ? Date.parse(ms) : ms;
  }
  advance(ms: number): void {
    this.current += ms;
  }
  async sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) throw signal.reason;
    // Never move backwards; a wait for a past instant only yields.
    if (ms > 0) this.current += ms;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}
