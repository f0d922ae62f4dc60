/** The worker on SQLite and PostgreSQL, on a fake clock: retries, dead jobs, replay, batches, the loop. */
import assert from 'node:assert/strict';
import { beforeEach, it } from 'node:test';
import { PermanentError, RetryableError } from '../../src/engine/errors.js';
import { handleEachJob, type JobHandler } from '../../src/engine/handler.js';
import { Worker } from '../../src/engine/worker.js';
import { appendAudit, listAudit } from '../../src/store/audit.js';
import { claimJobs } from '../../src/store/jobs/claim.js';
import { type Completion, completeJobs } from '../../src/store/jobs/complete.js';
import { enqueueJob, enqueueJobs } from '../../src/store/jobs/enqueue.js';
import { requeueExpiredLeases } from '../../src/store/jobs/expire.js';
import { failJob } from '../../src/store/jobs/fail.js';
import type { Job } from '../../src/store/jobs/job.js';
import { getJob, listAttempts } from '../../src/store/jobs/queries.js';
import { replayJobs } from '../../src/store/jobs/replay.js';
import { FakeClock } from '../helpers/clock.js';
import { forEachDialect } from '../helpers/dialects.js';

const MIN = 60_000;
const retry = { cadence: [1 * MIN, 5 * MIN, 15 * MIN], perKind: { 'quick.kind': [1000] }, jitter: 0 };

/**
 * Waits until `check` holds, moving the fake clock `stepMs` at a time (0: not at all) and letting the
 * worker's database calls complete in between. No real sleeping: the only real time spent is I/O.
 */
async function runUntil(
  clock: FakeClock,
  check: () => boolean | Promise<boolean>,
  what: string,
  stepMs = 0,
  capMs = 10_000,
): Promise<void> {
  const until = Date.now() + capMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what} (fake time ${clock.now()})`);
    if (stepMs > 0) await clock.tickAsync(stepMs);
    else await clock.settle(1);
  }
}

forEachDialect('worker', (ctx) => {
  beforeEach(async () => {
    await ctx.store.db.deleteFrom('job_attempts').execute();
    await ctx.store.db.deleteFrom('jobs').execute();
  });

  it('retries on the cadence, then the job is dead with its last error; a replay succeeds and keeps the history', async () => {
    const clock = new FakeClock();
    let sysproUp = false;
    const calls: number[] = [];
    const worker = new Worker({
      store: ctx.store,
      clock,
      retry,
      handlers: [
        handleEachJob('shipments.writeback', async (job) => {
          calls.push(clock.now());
          if (!sysproUp)
            throw Object.assign(new Error('connect ECONNREFUSED 10.0.0.5:20161'), { code: 'ECONNREFUSED' });
          return { dispatchNote: 'DN-1', shipment: (job.payload as { shipmentId: number }).shipmentId };
        }),
      ],
    });
    const t0 = clock.now();
    const { id } = await enqueueJob(
      ctx.store,
      { kind: 'shipments.writeback', connection: 'a', payload: { shipmentId: 77 } },
      t0,
    );

    assert.equal(await worker.runUntilIdle(), 1);
    let job = await getJob(ctx.store, id);
    assert.equal(job!.state, 'queued');
    assert.equal(job!.runAt, t0 + 1 * MIN);
    assert.match(job!.lastError!, /ECONNREFUSED/);

    clock.advance(1 * MIN - 1);
    assert.equal(await worker.runUntilIdle(), 0, 'not due before the cadence says');
    for (const delay of [1, 5 * MIN, 15 * MIN]) {
      clock.advance(delay);
      assert.equal(await worker.runUntilIdle(), 1);
    }
    job = await getJob(ctx.store, id);
    assert.equal(job!.state, 'dead');
    assert.match(job!.lastError!, /ECONNREFUSED 10\.0\.0\.5/);
    assert.deepEqual(
      calls.map((c) => c - t0),
      [0, 1 * MIN, 6 * MIN, 21 * MIN],
    );

    sysproUp = true;
    clock.advance(60 * MIN);
    assert.equal(await worker.runUntilIdle(), 0, 'a dead job stays dead');
    const { replayed } = await replayJobs(
      ctx.store,
      { kind: 'shipments.writeback', connection: 'a' },
      clock.now(),
    );
    assert.deepEqual(replayed, [id]);
    assert.equal(await worker.runUntilIdle(), 1);
    job = await getJob(ctx.store, id);
    assert.equal(job!.state, 'succeeded');
    assert.equal(job!.replays, 1);
    const history = await listAttempts(ctx.store, id);
    assert.deepEqual(
      history.map((h) => [h.attempt, h.outcome]),
      [
        [1, 'failed'],
        [2, 'failed'],
        [3, 'failed'],
        [4, 'dead'],
        [1, 'succeeded'],
      ],
    );
    assert.ok(history.slice(0, 4).every((h) => /ECONNREFUSED/.test(h.error ?? '')));
    assert.deepEqual(history[4]!.result, { dispatchNote: 'DN-1', shipment: 77 });
  });

  it('a permanent error kills the job at once; per-kind cadence and retry-after are honoured', async () => {
    const clock = new FakeClock();
    const worker = new Worker({
      store: ctx.store,
      clock,
      retry,
      handlers: [
        handleEachJob('orders.push', async () => {
          throw new PermanentError('order EDU1:000123: ship-to country "XX" is not an ISO code');
        }),
        handleEachJob('quick.kind', async () => {
          throw new RetryableError('ShipStation 429', { retryAfterMs: 30_000 });
        }),
      ],
    });
    const t0 = clock.now();
    const a = await enqueueJob(ctx.store, { kind: 'orders.push', connection: 'a' }, t0);
    const b = await enqueueJob(ctx.store, { kind: 'quick.kind', connection: 'a' }, t0);
    await worker.runUntilIdle();
    const dead = await getJob(ctx.store, a.id);
    assert.equal(dead!.state, 'dead');
    assert.equal(dead!.attempts, 1);
    assert.match(dead!.lastError!, /EDU1:000123/);
    const quick = await getJob(ctx.store, b.id);
    assert.equal(quick!.state, 'queued');
    assert.equal(quick!.runAt, t0 + 30_000, 'retry-after (30 s) beats the 1 s cadence');
    clock.advance(30_000);
    await worker.runUntilIdle();
    assert.equal((await getJob(ctx.store, b.id))!.state, 'dead', 'one-step cadence used up');
  });

  it('a batch handler gets up to batchSize jobs of one connection and its outcomes are recorded per job', async () => {
    const clock = new FakeClock();
    const batches: Array<{ connection: string; size: number }> = [];
    const handler: JobHandler = {
      kind: 'orders.push',
      batchSize: 100,
      async run(jobs: Job[]) {
        batches.push({ connection: jobs[0]!.connection, size: jobs.length });
        assert.ok(jobs.every((j) => j.connection === jobs[0]!.connection));
        return jobs.map((j) =>
          (j.payload as { n: number }).n % 50 === 7
            ? {
                ok: false as const,
                error: new PermanentError(`order ${(j.payload as { n: number }).n} rejected`),
              }
            : { ok: true as const, result: { orderId: (j.payload as { n: number }).n } },
        );
      },
    };
    const worker = new Worker({ store: ctx.store, clock, retry, handlers: [handler] });
    const jobs = [];
    for (let n = 0; n < 250; n++)
      jobs.push({ kind: 'orders.push', connection: n < 230 ? 'a' : 'b', payload: { n } });
    await enqueueJobs(ctx.store, jobs, clock.now());
    assert.equal(await worker.runUntilIdle(), 250);
    assert.deepEqual(batches, [
      { connection: 'a', size: 100 },
      { connection: 'a', size: 100 },
      { connection: 'a', size: 30 },
      { connection: 'b', size: 20 },
    ]);
    const rows = await ctx.store.db.selectFrom('jobs').select(['state']).execute();
    assert.equal(rows.filter((r) => r.state === 'dead').length, 5);
    assert.equal(rows.filter((r) => r.state === 'succeeded').length, 245);
  });

  it('the loop runs kinds in parallel, respects per-kind concurrency and keeps a group to one job at a time', async () => {
    const clock = new FakeClock(undefined, { autoAdvance: false });
    let inSyspro = 0;
    let maxInSyspro = 0;
    let inPush = 0;
    let maxInPush = 0;
    const waiting: (() => void)[] = [];
    const worker = new Worker({
      store: ctx.store,
      clock,
      retry,
      pollMs: 20,
      handlers: [
        handleEachJob(
          'shipments.writeback',
          async () => {
            inSyspro++;
            maxInSyspro = Math.max(maxInSyspro, inSyspro);
            await clock.sleep(15);
            inSyspro--;
          },
          { concurrency: 4 },
        ),
        handleEachJob(
          'orders.push',
          async () => {
            inPush++;
            maxInPush = Math.max(maxInPush, inPush);
            // Hold each push until three run together. Time only moves when the test moves it, so
            // a slow machine cannot finish one before the third starts; the 10 min (fake) cap only
            // keeps a broken worker from hanging the test (maxInPush then tells what went wrong).
            if (inPush >= 3) for (const release of waiting.splice(0)) release();
            else await Promise.race([new Promise<void>((r) => waiting.push(r)), clock.sleep(10 * MIN)]);
            await clock.sleep(5);
            inPush--;
          },
          { concurrency: 3 },
        ),
      ],
    });
    const t0 = clock.now();
    const jobs = [];
    for (let i = 0; i < 8; i++)
      jobs.push({ kind: 'shipments.writeback', connection: 'a', groupKey: 'syspro:a' });
    for (let i = 0; i < 12; i++) jobs.push({ kind: 'orders.push', connection: 'a' });
    await enqueueJobs(ctx.store, jobs, t0);
    worker.start();
    try {
      await runUntil(
        clock,
        async () => {
          const left = await ctx.store.db
            .selectFrom('jobs')
            .select('id')
            .where('state', '!=', 'succeeded')
            .execute();
          return left.length === 0;
        },
        'all jobs to succeed',
        5,
      );
    } finally {
      clock.autoAdvance = true;
      await worker.stop(1000);
    }
    assert.equal(maxInSyspro, 1, 'one SYSPRO write per connection at a time, despite concurrency 4');
    assert.equal(maxInPush, 3, 'pushes ran three at a time');
    // The writes ran one after another (8 × 15 ms) while the pushes ran beside them.
    const finished = await ctx.store.db.selectFrom('jobs').select(['kind', 'finished_at']).execute();
    const lastWrite = Math.max(
      ...finished.filter((j) => j.kind === 'shipments.writeback').map((j) => Number(j.finished_at)),
    );
    assert.ok(lastWrite - t0 >= 8 * 15, `the last write finished ${lastWrite - t0} ms in`);
  });

  it('stop() waits for running jobs, and releases those that outlast the timeout', async () => {
    const clock = new FakeClock(undefined, { autoAdvance: false });
    let started = 0;
    const worker = new Worker({
      store: ctx.store,
      clock,
      retry,
      pollMs: 10,
      handlers: [
        handleEachJob(
          'fast',
          async () => {
            started++;
            await clock.sleep(50);
          },
          { concurrency: 1 },
        ),
        handleEachJob(
          'stuck',
          async (_job, { signal }) => {
            started++;
            // As the clients do: an abort ends the call with its reason.
            await new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
          },
          { concurrency: 1 },
        ),
      ],
    });
    const t0 = clock.now();
    const a = await enqueueJob(ctx.store, { kind: 'fast', connection: 'a' }, t0);
    const b = await enqueueJob(ctx.store, { kind: 'stuck', connection: 'a' }, t0);
    const c = await enqueueJob(ctx.store, { kind: 'fast', connection: 'a', runAt: t0 + 60_000 }, t0);
    worker.start();
    await runUntil(clock, () => started === 2, 'both jobs to start');
    let stopped = false;
    const stopping = worker.stop(300).then(() => {
      stopped = true;
    });
    await clock.tickAsync(50);
    await runUntil(clock, async () => (await getJob(ctx.store, a.id))!.state === 'succeeded', 'the fast job');
    await clock.tickAsync(249);
    assert.equal(stopped, false, 'still waiting at 299 ms of the 300 ms timeout');
    assert.equal((await getJob(ctx.store, b.id))!.state, 'running');
    await clock.tickAsync(1);
    await stopping;
    assert.equal(clock.now() - t0, 300, 'no other time passed');
    const stuck = await getJob(ctx.store, b.id);
    assert.equal(stuck!.state, 'queued', 'released');
    assert.equal(stuck!.attempts, 0);
    assert.equal((await getJob(ctx.store, c.id))!.state, 'queued');
    assert.equal(clock.pending, 0, 'the stopped worker left no sleeper behind');
    // Nothing left running under this worker, and a new worker can take the released job at once.
    const again = await claimJobs(ctx.store, {
      kind: 'stuck',
      limit: 1,
      owner: 'next',
      leaseMs: 1000,
      now: clock.now(),
    });
    assert.equal(again.length, 1);
  });

  it('the purge loop deletes finished jobs past retention at start and every purge interval, and keeps dead ones', async () => {
    const DAY = 86_400_000;
    const clock = new FakeClock(undefined, { autoAdvance: false });
    const old = clock.now() - 40 * DAY;
    const { id: oldDone } = await enqueueJob(ctx.store, { kind: 'fast', connection: 'a' }, old);
    await claimJobs(ctx.store, { kind: 'fast', limit: 1, owner: 'w0', leaseMs: 1000, now: old });
    await completeJobs(ctx.store, 'w0', [{ id: oldDone }], old);
    const { id: oldDead } = await enqueueJob(ctx.store, { kind: 'fast', connection: 'b' }, old);
    await claimJobs(ctx.store, { kind: 'fast', limit: 1, owner: 'w0', leaseMs: 1000, now: old });
    await failJob(ctx.store, 'w0', oldDead, 'HTTP 400', null, old);
    const worker = new Worker({
      store: ctx.store,
      clock,
      retry,
      pollMs: 10,
      sweepMs: 10,
      retainFinishedMs: 30 * DAY,
      purgeEveryMs: 60 * MIN,
      handlers: [handleEachJob('fast', async () => {})],
    });
    const exists = async (id: number) => (await getJob(ctx.store, id)) !== undefined;
    worker.start();
    try {
      await runUntil(clock, async () => !(await exists(oldDone)), 'the old job to be purged at start');
      // A job that finishes now is within retention and stays.
      const { id: fresh } = await enqueueJob(ctx.store, { kind: 'fast', connection: 'c' }, clock.now());
      worker.notify('fast');
      await runUntil(
        clock,
        async () => (await getJob(ctx.store, fresh))?.state === 'succeeded',
        'the new job',
      );
      assert.equal((await ctx.store.db.selectFrom('jobs').select('id').execute()).length, 2);
      // 31 days on, the next purge (its hourly sleep fires on the way) takes the fresh job too.
      clock.advance(31 * DAY);
      await runUntil(clock, async () => !(await exists(fresh)), 'the purge an interval later');
    } finally {
      clock.autoAdvance = true;
      await worker.stop(1000);
    }
    assert.equal((await getJob(ctx.store, oldDead))?.state, 'dead', 'dead jobs are kept whatever their age');
    const left = await ctx.store.db.selectFrom('jobs').select('id').execute();
    assert.equal(left.length, 1);
  });

  it("a completion's record writes commit with the job's success, or not at all", async () => {
    await ctx.store.db.deleteFrom('audit').execute();
    const clock = new FakeClock();
    let linkStoreBroken = true;
    const audit = (job: Job) => (db: Parameters<NonNullable<Completion['record']>>[0]) =>
      appendAudit(db, {
        connection: job.connection,
        flow: 'shipments',
        entityType: 'shipment',
        entityKey: String((job.payload as { shipmentId: number }).shipmentId),
        action: 'dispatch-note',
        outcome: 'ok',
        jobId: job.id,
        at: clock.now(),
      }).then(() => {
        if (linkStoreBroken) throw new Error('link table is locked by a migration');
      });
    const worker = new Worker({
      store: ctx.store,
      clock,
      retry,
      handlers: [
        {
          kind: 'shipments.writeback',
          batchSize: 10,
          // The outside write happened but its record did not commit: the job is in doubt, so only a
          // handler that checks gets it again.
          checksInDoubt: true,
          run: async (jobs) =>
            jobs.map((job) => ({ ok: true as const, result: { dn: 'DN-1' }, record: audit(job) })),
        },
      ],
    });
    const t0 = clock.now();
    const a = await enqueueJob(
      ctx.store,
      { kind: 'shipments.writeback', connection: 'a', payload: { shipmentId: 1 } },
      t0,
    );
    const b = await enqueueJob(
      ctx.store,
      { kind: 'shipments.writeback', connection: 'a', payload: { shipmentId: 2 } },
      t0,
    );

    assert.equal(await worker.runUntilIdle(), 2);
    for (const { id } of [a, b]) {
      const job = await getJob(ctx.store, id);
      assert.equal(job!.state, 'queued', 'not succeeded without its record');
      assert.equal(job!.runAt, t0 + 1 * MIN, 'retried on the cadence');
      assert.match(job!.lastError!, /outcome could not be recorded: .*link table is locked/);
      assert.match(job!.inDoubt?.error ?? '', /outcome could not be recorded/, 'marked in doubt');
    }
    assert.equal(
      (await listAudit(ctx.store.db)).length,
      0,
      'the audit row written before the failure was rolled back',
    );

    linkStoreBroken = false;
    clock.advance(1 * MIN);
    assert.equal(await worker.runUntilIdle(), 2);
    for (const { id } of [a, b]) {
      const job = await getJob(ctx.store, id);
      assert.equal(job!.state, 'succeeded');
      assert.equal(job!.inDoubt, null, 'success clears the in-doubt mark');
    }
    const rows = await listAudit(ctx.store.db);
    assert.deepEqual(
      rows.map((r) => [Number(r.job_id), r.entity_key]).sort(),
      [
        [a.id, '1'],
        [b.id, '2'],
      ].sort(),
    );
    assert.deepEqual(
      (await listAttempts(ctx.store, a.id)).map((x) => x.outcome),
      ['failed', 'succeeded'],
    );
  });

  it("one job's failing record writes do not undo its batch mates", async () => {
    await ctx.store.db.deleteFrom('audit').execute();
    const clock = new FakeClock();
    const worker = new Worker({
      store: ctx.store,
      clock,
      retry,
      handlers: [
        {
          kind: 'shipments.writeback',
          batchSize: 10,
          checksInDoubt: true,
          run: async (jobs) =>
            jobs.map((job) => ({
              ok: true as const,
              record: async (db: Parameters<NonNullable<Completion['record']>>[0]) => {
                const shipmentId = (job.payload as { shipmentId: number }).shipmentId;
                await appendAudit(db, {
                  connection: job.connection,
                  flow: 'shipments',
                  entityType: 'shipment',
                  entityKey: String(shipmentId),
                  action: 'dispatch-note',
                  outcome: 'ok',
                  jobId: job.id,
                  at: clock.now(),
                });
                if (shipmentId === 2) throw new Error('link row refused');
              },
            })),
        },
      ],
    });
    const ids = [];
    for (const shipmentId of [1, 2, 3]) {
      ids.push(
        (
          await enqueueJob(
            ctx.store,
            { kind: 'shipments.writeback', connection: 'a', payload: { shipmentId } },
            clock.now(),
          )
        ).id,
      );
    }
    assert.equal(await worker.runUntilIdle(), 3);
    const states = [];
    for (const id of ids) states.push((await getJob(ctx.store, id))!.state);
    assert.deepEqual(states, ['succeeded', 'queued', 'succeeded']);
    assert.match(
      (await getJob(ctx.store, ids[1]!))!.lastError!,
      /outcome could not be recorded: .*link row refused/,
    );
    assert.deepEqual((await listAudit(ctx.store.db)).map((r) => r.entity_key).sort(), ['1', '3']);
  });

  it('a completion whose lease was lost does not run its record writes', async () => {
    const { id } = await enqueueJob(ctx.store, { kind: 'fast', connection: 'a' }, Date.now());
    await claimJobs(ctx.store, { kind: 'fast', limit: 1, owner: 'w-new', leaseMs: 60_000, now: Date.now() });
    let ran = 0;
    const done = await completeJobs(
      ctx.store,
      'w-old',
      [
        {
          id,
          record: async () => {
            ran++;
          },
        },
      ],
      Date.now(),
    );
    assert.deepEqual(done, []);
    assert.equal(ran, 0);
    assert.equal((await getJob(ctx.store, id))!.state, 'running', 'still held by its new owner');
  });

  it('attempts lost to dead processes do not use up the retry cadence', async () => {
    const clock = new FakeClock();
    const t0 = clock.now();
    const { id } = await enqueueJob(ctx.store, { kind: 'shipments.writeback', connection: 'a' }, t0);
    // Two processes die holding the job; the sweep queues it again each time.
    for (const owner of ['gone-1', 'gone-2']) {
      await claimJobs(ctx.store, {
        kind: 'shipments.writeback',
        limit: 1,
        owner,
        leaseMs: 1000,
        now: clock.now(),
      });
      clock.advance(1001);
      assert.deepEqual(await requeueExpiredLeases(ctx.store, clock.now()), [id]);
    }
    assert.equal((await getJob(ctx.store, id))!.lostLeases, 2);
    const worker = new Worker({
      store: ctx.store,
      clock,
      retry,
      handlers: [
        handleEachJob('shipments.writeback', async () => {
          throw new RetryableError('SYSPRO e.net: service unavailable');
        }),
      ],
    });
    // The first real failure waits the first delay of the cadence (1 min), not the third (15 min).
    const failedAt = clock.now();
    assert.equal(await worker.runUntilIdle(), 1);
    let job = await getJob(ctx.store, id);
    assert.equal(job!.state, 'queued');
    assert.equal(job!.runAt, failedAt + 1 * MIN);
    // And it still gets every retry of the cadence before it is dead.
    for (const delay of [1 * MIN, 5 * MIN]) {
      clock.advance(delay);
      assert.equal(await worker.runUntilIdle(), 1);
      assert.equal((await getJob(ctx.store, id))!.state, 'queued');
    }
    clock.advance(15 * MIN);
    assert.equal(await worker.runUntilIdle(), 1);
    job = await getJob(ctx.store, id);
    assert.equal(job!.state, 'dead');
    assert.deepEqual(
      (await listAttempts(ctx.store, id)).map((a) => a.outcome),
      ['lease_expired', 'lease_expired', 'failed', 'failed', 'failed', 'dead'],
    );
    await replayJobs(ctx.store, { ids: [id] }, clock.now());
    assert.equal((await getJob(ctx.store, id))!.lostLeases, 0, 'replay starts the counts afresh');
  });

  it('a claim that passed over a spent budget looks again after 200 ms; with room left it waits its poll interval', async () => {
    const fake = new FakeClock(undefined, { autoAdvance: false });
    // The sleeps the worker asks for (the claim loop's are 200 or 1000 ms here), whatever I/O takes.
    const sleeps: number[] = [];
    const clock = {
      now: () => fake.now(),
      sleep: (ms: number, signal?: AbortSignal) => {
        sleeps.push(ms);
        return fake.sleep(ms, signal);
      },
    };
    let room = 0;
    let reads = 0;
    let ran = false;
    const worker = new Worker({
      store: ctx.store,
      clock,
      retry,
      pollMs: 1000,
      handlers: [
        {
          kind: 'orders.push',
          capacity: async () => {
            reads++;
            return new Map([['a', room]]);
          },
          async run() {
            ran = true;
            return undefined;
          },
        },
      ],
    });
    await enqueueJobs(ctx.store, [{ kind: 'orders.push', connection: 'a' }], fake.now());
    worker.start();
    try {
      await runUntil(fake, () => reads >= 3, 'three capacity reads', 50);
      assert.equal(ran, false, 'the key is spent: nothing runs');
      assert.ok(sleeps.includes(200), `looked again after 200 ms (sleeps ${sleeps.join(', ')})`);
      assert.ok(!sleeps.includes(1000), 'not after the poll interval');
      room = 1;
      await runUntil(fake, () => ran, 'the push to run', 50);
      const before = sleeps.length;
      await runUntil(fake, () => sleeps.slice(before).includes(1000), 'an idle poll interval', 50);
    } finally {
      fake.autoAdvance = true;
      await worker.stop(1000);
    }
  });
});
