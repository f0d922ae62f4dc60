/**
 * The worker on SQLite and PostgreSQL, on a fake clock: what it does with a failure that is not sent,
 * rejected or in doubt. An in-doubt job is never run again blindly: a handler that checks gets it back
 * with `job.inDoubt` (and the evidence the failing attempt left), any other handler's job is dead at
 * once; the mark survives retries and replays and is cleared by success.
 */
import assert from 'node:assert/strict';
import { beforeEach, it } from 'node:test';
import { InDoubtError, InDoubtUnresolved } from '../../src/engine/errors.js';
import { checkInDoubt, handleEachJob } from '../../src/engine/handler.js';
import { Worker } from '../../src/engine/worker.js';
import { ShipStationError } from '../../src/shipstation/errors.js';
import { claimJobs } from '../../src/store/jobs/claim.js';
import { enqueueJob } from '../../src/store/jobs/enqueue.js';
import { requeueExpiredLeases } from '../../src/store/jobs/expire.js';
import type { InDoubt, Job } from '../../src/store/jobs/job.js';
import { getJob } from '../../src/store/jobs/queries.js';
import { replayJobs } from '../../src/store/jobs/replay.js';
import { SysproError } from '../../src/syspro/errors.js';
import { FakeClock } from '../helpers/clock.js';
import { forEachDialect } from '../helpers/dialects.js';

const MIN = 60_000;
const retry = { cadence: [1 * MIN, 5 * MIN], perKind: {}, jitter: 0 };

/** A SORTDN post whose answer never came (what the e.net client throws for the `lost` fault). */
function lostPost(): SysproError {
  return new SysproError('unreachable', 'SYSPRO Transaction/Post SORTDN: socket closed', {
    endpoint: 'Transaction/Post',
    businessObject: 'SORTDN',
    delivery: 'in-doubt',
    retryable: false,
  });
}

forEachDialect('worker: in-doubt jobs', (ctx) => {
  beforeEach(async () => {
    await ctx.store.db.deleteFrom('job_attempts').execute();
    await ctx.store.db.deleteFrom('jobs').execute();
  });

  it('a handler that cannot check: an in-doubt failure is dead at once, saying what to check', async () => {
    const clock = new FakeClock();
    let runs = 0;
    const worker = new Worker({
      store: ctx.store,
      clock,
      retry,
      handlers: [
        handleEachJob('dispatch', async () => {
          runs++;
          throw lostPost();
        }),
      ],
    });
    const { id } = await enqueueJob(ctx.store, { kind: 'dispatch', connection: 'a' }, clock.now());
    await worker.runUntilIdle();
    clock.advance(60 * MIN);
    await worker.runUntilIdle();
    assert.equal(runs, 1, 'never run a second time');
    const job = await getJob(ctx.store, id);
    assert.equal(job!.state, 'dead');
    assert.match(job!.lastError!, /^in doubt: .*check SYSPRO before replaying/);
    assert.equal(job!.inDoubt?.since, clock.now() - 60 * MIN);

    // Replay keeps the mark: the replayed run is told, too.
    await replayJobs(ctx.store, { ids: [id] }, clock.now());
    assert.ok((await getJob(ctx.store, id))!.inDoubt, 'still in doubt after replay');
  });

  it('a handler that checks gets the job back with job.inDoubt and its evidence; success clears it', async () => {
    const clock = new FakeClock();
    const seen: Array<InDoubt | null> = [];
    const worker = new Worker({
      store: ctx.store,
      clock,
      retry,
      handlers: [
        handleEachJob(
          'increment',
          async (job) => {
            seen.push(job.inDoubt);
            const check = await checkInDoubt(job, 'ShipStation', async (inDoubt) =>
              (inDoubt.evidence as { onHandBefore: number }).onHandBefore === 10
                ? { state: 'done', value: 'found' }
                : { state: 'absent' },
            );
            if (check.done) return { checked: check.value };
            throw new InDoubtError(
              new ShipStationError({
                kind: 'server',
                api: 'v2',
                endpoint: 'POST /v2/inventory',
                status: 500,
                retryable: false,
                delivery: 'in-doubt',
              }),
              { onHandBefore: 10 },
            );
          },
          { checksInDoubt: true },
        ),
      ],
    });
    const { id } = await enqueueJob(ctx.store, { kind: 'increment', connection: 'a' }, clock.now());
    await worker.runUntilIdle();
    let job = await getJob(ctx.store, id);
    assert.equal(job!.state, 'queued');
    assert.equal(job!.runAt, clock.now() + 1 * MIN, 'retried on the cadence');
    assert.deepEqual(job!.inDoubt?.evidence, { onHandBefore: 10 });
    clock.advance(1 * MIN);
    await worker.runUntilIdle();
    job = await getJob(ctx.store, id);
    assert.equal(job!.state, 'succeeded');
    assert.equal(job!.inDoubt, null);
    assert.equal(seen[0], null);
    assert.match(seen[1]!.error, /HTTP 500/);
  });

  it('a check that cannot decide makes the job dead; one that fails to run keeps it in doubt and retries', async () => {
    const clock = new FakeClock();
    let sysproDown = true;
    const worker = new Worker({
      store: ctx.store,
      clock,
      retry: { ...retry, cadence: [1 * MIN, 1 * MIN, 1 * MIN] },
      handlers: [
        handleEachJob(
          'dispatch',
          async (job: Job) => {
            await checkInDoubt(job, 'SYSPRO', async () => {
              if (sysproDown)
                throw new SysproError('unreachable', 'SYSPRO Query/Query SORQRY: ECONNREFUSED', {
                  endpoint: 'Query/Query',
                  delivery: 'not-sent',
                });
              return { state: 'unknown', reason: 'sales order 000042 was not found' };
            });
            throw lostPost();
          },
          { checksInDoubt: true },
        ),
      ],
    });
    const { id } = await enqueueJob(ctx.store, { kind: 'dispatch', connection: 'a' }, clock.now());
    await worker.runUntilIdle(); // the post is lost
    clock.advance(1 * MIN);
    await worker.runUntilIdle(); // the check cannot reach SYSPRO: retried, still in doubt
    let job = await getJob(ctx.store, id);
    assert.equal(job!.state, 'queued');
    assert.match(job!.lastError!, /ECONNREFUSED/);
    assert.match(job!.inDoubt!.error, /socket closed/, 'the in-doubt failure is kept');
    sysproDown = false;
    clock.advance(1 * MIN);
    await worker.runUntilIdle();
    job = await getJob(ctx.store, id);
    assert.equal(job!.state, 'dead');
    assert.match(job!.lastError!, /could not be resolved: sales order 000042 was not found.*Check SYSPRO/);
    assert.ok(new InDoubtUnresolved('SYSPRO', 'x').retryable === false);
  });

  it('a not-sent failure is retried on the cadence without an in-doubt mark', async () => {
    const clock = new FakeClock();
    let runs = 0;
    const worker = new Worker({
      store: ctx.store,
      clock,
      retry,
      handlers: [
        handleEachJob('dispatch', async () => {
          runs++;
          if (runs === 1)
            throw new SysproError('unreachable', 'SYSPRO Logon: ECONNREFUSED', {
              endpoint: 'Logon',
              delivery: 'not-sent',
            });
          return 'ok';
        }),
      ],
    });
    const { id } = await enqueueJob(ctx.store, { kind: 'dispatch', connection: 'a' }, clock.now());
    await worker.runUntilIdle();
    assert.equal((await getJob(ctx.store, id))!.inDoubt, null);
    clock.advance(1 * MIN);
    await worker.runUntilIdle();
    assert.equal((await getJob(ctx.store, id))!.state, 'succeeded');
    assert.equal(runs, 2);
  });

  it('a job whose process died holding it is in doubt on its next attempt', async () => {
    const clock = new FakeClock();
    const { id } = await enqueueJob(ctx.store, { kind: 'dispatch', connection: 'a' }, clock.now());
    await claimJobs(ctx.store, {
      kind: 'dispatch',
      limit: 1,
      owner: 'gone',
      leaseMs: 1000,
      now: clock.now(),
    });
    clock.advance(2000);
    await requeueExpiredLeases(ctx.store, clock.now());
    const job = await getJob(ctx.store, id);
    assert.match(job!.inDoubt?.error ?? '', /lost the lease/);
    assert.equal(job!.inDoubt?.since, null);
  });
});
