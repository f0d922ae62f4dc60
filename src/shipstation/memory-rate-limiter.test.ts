import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeClock } from '../../test/helpers/clock.js';
import { MemoryRateLimiter } from './memory-rate-limiter.js';
import { BudgetSpentError, type RateLimitObservation } from './rate-limit.js';

/** A fixed-window counter like ShipStation V1's, on the fake clock. */
class WindowServer {
  readonly counts = new Map<number, number>();
  rejected = 0;
  constructor(
    private readonly clock: FakeClock,
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly origin: number,
    private readonly rounding: (x: number) => number = Math.ceil,
  ) {}
  /** Another app on the same key spends `n` requests now. */
  spend(n: number): void {
    const w = this.window();
    this.counts.set(w, (this.counts.get(w) ?? 0) + n);
  }
  private window(): number {
    return Math.floor((this.clock.now() - this.origin) / this.windowMs);
  }
  hit(): { status: 200 | 429; observation: RateLimitObservation } {
    const w = this.window();
    const used = this.counts.get(w) ?? 0;
    const end = this.origin + (w + 1) * this.windowMs;
    const resetSeconds = this.rounding((end - this.clock.now()) / 1000);
    const at = this.clock.now();
    if (used >= this.limit) {
      this.rejected += 1;
      return { status: 429, observation: { limit: this.limit, remaining: 0, resetSeconds, at } };
    }
    this.counts.set(w, used + 1);
    return {
      status: 200,
      observation: { limit: this.limit, remaining: this.limit - used - 1, resetSeconds, at },
    };
  }
}

describe('MemoryRateLimiter', () => {
  it('lets `limit` requests through at once, then waits for the next window (no observations)', async () => {
    const clock = new FakeClock();
    const limiter = new MemoryRateLimiter({ clock, limit: 40, windowMs: 60_000 });
    const start = clock.now();
    for (let i = 0; i < 40; i++) assert.equal(await limiter.acquire('k'), 0);
    assert.equal(clock.now(), start);
    const waited = await limiter.acquire('k');
    // A window plus the safety margin (rate-budget.ts): our 40 must all have left any 60 s window.
    assert.equal(waited, 61_000);
    // Keys are independent.
    assert.equal(await limiter.acquire('other'), 0);
  });

  for (const [label, rounding] of [
    ['reset rounded up', Math.ceil],
    ['reset rounded down', Math.floor],
  ] as const) {
    it(`runs 2,000 sequential calls against a 40-per-window server with no 429 (${label})`, async () => {
      const clock = new FakeClock();
      // The server's windows started 37.5 s before our first call: they do not line up with ours.
      const server = new WindowServer(clock, 40, 60_000, clock.now() - 37_500, rounding);
      const limiter = new MemoryRateLimiter({ clock, limit: 40, windowMs: 60_000 });
      const start = clock.now();
      for (let i = 0; i < 2000; i++) {
        await limiter.acquire('k');
        const { status, observation } = server.hit();
        assert.equal(status, 200, `call ${i} got 429`);
        await limiter.observe('k', observation);
      }
      assert.equal(server.rejected, 0);
      // 2,000 / 40 = 50 windows, the first one partly used: about 49 windows of waiting.
      const windows = (clock.now() - start) / 60_000;
      assert.ok(windows >= 48 && windows <= 51, `took ${windows} windows`);
    });
  }

  it('stays within the budget with many concurrent callers', async () => {
    const clock = new FakeClock();
    const server = new WindowServer(clock, 40, 60_000, clock.now() - 12_000);
    const limiter = new MemoryRateLimiter({ clock, limit: 40, windowMs: 60_000 });
    let done = 0;
    const worker = async (id: number) => {
      for (let i = 0; i < 50; i++) {
        await limiter.acquire('k');
        // Requests take a little (fake) time, so answers arrive while others are in flight.
        await clock.sleep((id % 3) * 10);
        const { status, observation } = server.hit();
        assert.equal(status, 200);
        await limiter.observe('k', observation);
        done += 1;
      }
    };
    await Promise.all(Array.from({ length: 10 }, (_, id) => worker(id)));
    assert.equal(done, 500);
    assert.equal(server.rejected, 0);
  });

  it('believes the server when another app has spent part of the shared budget', async () => {
    const clock = new FakeClock();
    const server = new WindowServer(clock, 40, 60_000, clock.now());
    const limiter = new MemoryRateLimiter({ clock, limit: 40, windowMs: 60_000 });
    server.spend(30);
    let calls = 0;
    for (let i = 0; i < 60; i++) {
      await limiter.acquire('k');
      const { status, observation } = server.hit();
      assert.equal(status, 200, `call ${i}`);
      await limiter.observe('k', observation);
      calls += 1;
      if (i === 9)
        assert.equal(clock.now(), Date.parse('2026-01-15T12:00:00Z'), 'first 10 calls sent at once');
    }
    assert.equal(calls, 60);
    assert.equal(server.rejected, 0);
  });

  it('learns a different limit from the headers', async () => {
    const clock = new FakeClock();
    const limiter = new MemoryRateLimiter({ clock, limit: 40, windowMs: 60_000 });
    await limiter.acquire('k');
    await limiter.observe('k', { limit: 5, remaining: 4, resetSeconds: 60, at: clock.now() });
    for (let i = 0; i < 4; i++) assert.equal(await limiter.acquire('k'), 0);
    assert.ok((await limiter.acquire('k')) >= 60_000);
    // The next window holds 5, not 40.
    for (let i = 0; i < 4; i++) assert.equal(await limiter.acquire('k'), 0);
    assert.ok((await limiter.acquire('k')) > 0);
  });

  it('sends nothing for a key until a block (after a 429) has passed', async () => {
    const clock = new FakeClock();
    const limiter = new MemoryRateLimiter({ clock, limit: 40, windowMs: 60_000 });
    await limiter.acquire('k');
    const until = clock.now() + 21_000;
    await limiter.block('k', until);
    const waited = await limiter.acquire('k');
    assert.equal(waited, 21_000);
    assert.equal(clock.now(), until);
    // After the block the sliding log still counts the request sent before it: 38 more, not 39.
    for (let i = 0; i < 38; i++) assert.equal(await limiter.acquire('k'), 0);
    assert.ok((await limiter.acquire('k')) > 0);
  });

  it('ignores a late answer from a window that already ended', async () => {
    const clock = new FakeClock();
    const limiter = new MemoryRateLimiter({ clock, limit: 40, windowMs: 60_000, safetyMs: 0 });
    await limiter.acquire('k');
    await limiter.acquire('k');
    await limiter.observe('k', { limit: 40, remaining: 39, resetSeconds: 10, at: clock.now() });
    clock.advance(11_000);
    await limiter.acquire('k');
    await limiter.observe('k', { limit: 40, remaining: 39, resetSeconds: 60, at: clock.now() });
    // The second request's answer arrives late and reports the old window as exhausted.
    await limiter.observe('k', { limit: 40, remaining: 0, resetSeconds: 0, at: clock.now() - 11_000 });
    assert.equal(await limiter.acquire('k'), 0);
  });

  it('with maxWaitMs, says at once that the budget is spent instead of waiting (ping)', async () => {
    const clock = new FakeClock();
    const limiter = new MemoryRateLimiter({ clock, limit: 2, windowMs: 60_000 });
    await limiter.acquire('k', undefined, { maxWaitMs: 5000 });
    await limiter.acquire('k', undefined, { maxWaitMs: 5000 });
    const start = clock.now();
    await assert.rejects(limiter.acquire('k', undefined, { maxWaitMs: 5000 }), (err: unknown) => {
      assert.ok(err instanceof BudgetSpentError);
      assert.equal(err.waitMs, 61_000);
      return true;
    });
    assert.equal(clock.now(), start, 'did not wait');
    // A short wait within maxWaitMs is still waited.
    await limiter.block('other', clock.now() + 3000);
    assert.equal(await limiter.acquire('other', undefined, { maxWaitMs: 5000 }), 3000);
  });

  it('stops waiting when the signal aborts', async () => {
    const clock = new FakeClock();
    const limiter = new MemoryRateLimiter({ clock, limit: 1, windowMs: 60_000 });
    await limiter.acquire('k');
    const controller = new AbortController();
    controller.abort(new Error('shutting down'));
    await assert.rejects(limiter.acquire('k', controller.signal), /shutting down/);
  });
});
