/**
 * Graceful shutdown of a real worker process on SIGTERM / SIGINT, on SQLite and PostgreSQL: it
 * stops claiming, lets running jobs finish within the timeout, releases what outlasts it, exits 0.
 */
import assert from 'node:assert/strict';
import { beforeEach, it } from 'node:test';
import { enqueueJobs } from '../../src/store/jobs/enqueue.js';
import { listAttempts } from '../../src/store/jobs/queries.js';
import { forEachDialect } from '../helpers/dialects.js';
import { spawnWorker } from './fixtures/spawn-worker.js';

async function waitFor(check: () => Promise<boolean>, what: string, capMs = 10_000): Promise<void> {
  const until = Date.now() + capMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

forEachDialect('graceful shutdown', (ctx) => {
  beforeEach(async () => {
    await ctx.store.db.deleteFrom('job_attempts').execute();
    await ctx.store.db.deleteFrom('jobs').execute();
  });
  const states = async () =>
    (await ctx.store.db.selectFrom('jobs').select(['id', 'state', 'attempts']).orderBy('id').execute()).map(
      (r) => ({
        id: Number(r.id),
        state: r.state,
        attempts: Number(r.attempts),
      }),
    );
  const running = async () => (await states()).filter((s) => s.state === 'running').length;

  it('SIGTERM: stops claiming and lets the running jobs finish', async () => {
    await enqueueJobs(
      ctx.store,
      Array.from({ length: 5 }, () => ({ kind: 'load.test', connection: 'a' })),
      Date.now(),
    );
    const w = spawnWorker(ctx.url, 'graceful', {
      lease: 10_000,
      batch: 1,
      concurrency: 2,
      handlerMs: 1200,
      stopTimeoutMs: 8000,
    });
    await w.ready;
    await waitFor(async () => (await running()) === 2, 'two running jobs');
    w.child.kill('SIGTERM');
    assert.equal(await w.exited, 0);
    const after = await states();
    assert.deepEqual(
      after.map((s) => s.state),
      ['succeeded', 'succeeded', 'queued', 'queued', 'queued'],
    );
    assert.ok(
      after.slice(2).every((s) => s.attempts === 0),
      'no new job was started after the signal',
    );
  });

  it('SIGINT: a job that outlasts the timeout is released, not left running', async () => {
    await enqueueJobs(ctx.store, [{ kind: 'load.test', connection: 'a' }], Date.now());
    const w = spawnWorker(ctx.url, 'impatient', {
      lease: 60_000,
      batch: 1,
      concurrency: 1,
      handlerMs: 30_000,
      stopTimeoutMs: 300,
    });
    await w.ready;
    await waitFor(async () => (await running()) === 1, 'the job to start');
    const signalled = Date.now();
    w.child.kill('SIGINT');
    assert.equal(await w.exited, 0);
    assert.ok(Date.now() - signalled < 5000, 'exited within the timeout, not after the 30 s job');
    const [job] = await states();
    assert.deepEqual(job, { id: job!.id, state: 'queued', attempts: 0 });
    assert.deepEqual(
      (await listAttempts(ctx.store, job!.id)).map((a) => [a.worker, a.outcome]),
      [['impatient', 'released']],
    );
  });
});
