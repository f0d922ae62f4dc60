import type { Clock } from '../../src/clock.js';

/** A fake clock; tests advance it instead of sleeping. */
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
}
