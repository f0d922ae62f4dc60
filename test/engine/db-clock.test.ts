/**
 * Whatever processes share runs on the database's time: two stores on one PostgreSQL database stand
 * for two processes, one of them with a local clock 5 s ahead. Its grants must not push a window of
 * the shared ShipStation budget over the limit, and its lease sweep must not expire the other's
 * live lease. Real PostgreSQL time is the point here, so these run on the real clock, bounded to a
 * few seconds (1 s windows).
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { type Clock, systemClock } from '../../src/clock.js';
import { DbRateLimiter } from '../../src/engine/db-rate-limiter.js';
import { Worker } from '../../src/engine/worker.js';
import { DatabaseClock } from '../../src/store/db-clock.js';
import { claimJobs } from '../../src/store/jobs/claim.js';
import { enqueueJobs } from '../../src/store/jobs/enqueue.js';
import { openStore, type Store } from '../../src/store/open.js';
import { FakeClock } from '../helpers/clock.js';
import { forEachDialect } from '../helpers/dialects.js';

const SKEW_MS = 5000;

/** This process's clock, `skewMs` ahead of the machine's. */
function skewedClock(skewMs: number): Clock {
  return { now: () => Date.now() + skewMs, sleep: systemClock.sleep };
}

/** The most grants that fall inside any window of `windowMs` (a half-open interval). */
function busiestWindow(times: number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  for (let i = 0; i < sorted.length; i++) {
    let n = 0;
    while (i + n < sorted.length && (sorted[i + n] as number) < (sorted[i] as number) + windowMs) n++;
    most = Math.max(most, n);
  }
  return most;
}

forEachDialect('database clock', (ctx) => {
  if (ctx.dialect === 'sqlite') {
    it('is the local clock on SQLite (one machine): no offset, no query', async () => {
      const local = new FakeClock();
      const clock = new DatabaseClock(ctx.store, { local });
      await clock.ready();
      assert.equal(clock.offsetMs, 0);
      assert.equal(clock.now(), local.now());
    });
    return;
  }

  /** The second process: its own store (pool) on the same database. */
  let other: Store;
  before(() => {
    other = openStore(ctx.url, { poolSize: 2 });
  });
  after(async () => {
    await other?.close();
  });

  it("measures a skewed process's offset, so its now() is the database's", async () => {
    const clock = new DatabaseClock(other, { local: skewedClock(SKEW_MS) });
    await clock.ready();
    assert.ok(Math.abs(clock.offsetMs + SKEW_MS) < 250, `offset ${clock.offsetMs}`);
    assert.ok(Math.abs(clock.now() - Date.now()) < 250);
  });

  it('two processes on one key, one 5 s ahead: no window gets more than the limit', async () => {
    const LIMIT = 3;
    const WINDOW_MS = 1000;
    const EACH = 5;
    const limiters = [
      new DbRateLimiter(ctx.store, {
        limit: LIMIT,
        windowMs: WINDOW_MS,
        safetyMs: 150,
        clock: new DatabaseClock(ctx.store),
      }),
      new DbRateLimiter(other, {
        limit: LIMIT,
        windowMs: WINDOW_MS,
        safetyMs: 150,
        clock: new DatabaseClock(other, { local: skewedClock(SKEW_MS) }),
      }),
    ];
    const granted: number[] = [];
    await Promise.all(
      limiters.map(async (limiter) => {
        for (let i = 0; i < EACH; i++) {
          await limiter.acquire('skewed-key');
          granted.push(Date.now());
        }
      }),
    );
    assert.equal(granted.length, 2 * EACH);
    const most = busiestWindow(granted, WINDOW_MS);
    assert.ok(most <= LIMIT, `a ${WINDOW_MS} ms window got ${most} grants (limit ${LIMIT})`);
  });

  it('a lease sweeper 5 s ahead does not expire the live lease of another process', async () => {
    const clockA = new DatabaseClock(ctx.store);
    await clockA.ready();
    await enqueueJobs(ctx.store, [{ kind: 'skew.test', connection: 'c1', payload: {} }], clockA.now());
    const [job] = await claimJobs(ctx.store, {
      kind: 'skew.test',
      limit: 1,
      owner: 'process-a',
      leaseMs: 3000,
      now: clockA.now(),
    });
    assert.ok(job, 'process A holds the job');
    // Process B, 5 s ahead, runs its sweep the way the worker does (runUntilIdle sweeps first).
    const workerB = new Worker({
      store: other,
      handlers: [],
      retry: { cadence: [1000], perKind: {}, jitter: 0 },
      clock: new DatabaseClock(other, { local: skewedClock(SKEW_MS) }),
      workerId: 'process-b',
    });
    await workerB.runUntilIdle();
    const row = await ctx.store.db
      .selectFrom('jobs')
      .select(['state', 'lease_owner', 'lost_leases'])
      .where('id', '=', job.id)
      .executeTakeFirstOrThrow();
    assert.deepEqual(
      { state: row.state, owner: row.lease_owner, lost: Number(row.lost_leases) },
      { state: 'running', owner: 'process-a', lost: 0 },
    );
  });
});
