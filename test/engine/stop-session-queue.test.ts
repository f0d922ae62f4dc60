/**
 * `worker.stop()` and a job that waits its turn for the SYSPRO session, on SQLite and PostgreSQL:
 * the real e.net client over HTTP to the sandbox. While one job holds the session (a batch of
 * posts), a second job queues behind it the way the write-back, freight and channel-order handlers
 * do (`withSession` with the job's wait signal). The stop gives the second job back at once, with
 * nothing sent, while the holder is still at work: not after the holder's batch ends.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, it } from 'node:test';
import { waitSignal } from '../../src/abort.js';
import { handleEachJob } from '../../src/engine/handler.js';
import { Worker } from '../../src/engine/worker.js';
import { type SysproSandbox, startSysproSandbox } from '../../src/sandbox/syspro/index.js';
import { enqueueJob } from '../../src/store/jobs/enqueue.js';
import { getJob, listAttempts } from '../../src/store/jobs/queries.js';
import { querySalesOrder } from '../../src/syspro/business-objects/sorqry.js';
import type { EnetClient } from '../../src/syspro/enet-client.js';
import { FakeClock } from '../helpers/clock.js';
import { forEachDialect } from '../helpers/dialects.js';
import { sandboxEnetClient } from '../helpers/enet.js';

const retry = { cadence: [60_000], perKind: {}, jitter: 0 };

async function until(clock: FakeClock, check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const cap = Date.now() + 5000;
  while (!(await check())) {
    if (Date.now() > cap) throw new Error(`timed out waiting for ${what} (fake time ${clock.now()})`);
    await clock.settle(1);
  }
}

forEachDialect('worker stop with a job queued for the SYSPRO session', (ctx) => {
  let clock: FakeClock;
  let sandbox: SysproSandbox;
  let enet: EnetClient;
  /** Lets the holder's session end (also after a failed assertion, so nothing hangs). */
  let open: () => void = () => {};

  before(async () => {
    clock = new FakeClock(Date.parse('2026-01-15T20:00:00Z'), { autoAdvance: false });
    sandbox = await startSysproSandbox({ port: 0, clock, seed: 5, orders: 10, logger: false });
  });
  after(async () => {
    open();
    await enet?.close();
    await sandbox.close();
  });
  beforeEach(async () => {
    await ctx.store.db.deleteFrom('job_attempts').execute();
    await ctx.store.db.deleteFrom('jobs').execute();
    enet = sandboxEnetClient(sandbox, clock, { timeoutMs: 60_000 });
  });

  it('the queued job is given back at once, nothing of it sent; the holder finishes', async () => {
    const salesOrder = sandbox.db.sorMaster.rows[0]?.SalesOrder as string;
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    let queuedRan = false;
    const hold = handleEachJob('syspro.hold', () =>
      enet.withSession(async (session) => {
        await querySalesOrder(session, { salesOrder });
        await gate;
      }),
    );
    const queued = handleEachJob('syspro.queued', (_job, { signal }) =>
      enet.withSession(
        async (session) => {
          queuedRan = true;
          await querySalesOrder(session, { salesOrder });
        },
        { waitSignal: waitSignal(signal) },
      ),
    );
    const since = sandbox.calls.list().at(-1)?.seq ?? 0;
    const calls = () => sandbox.calls.list({ sinceSeq: since }).map((c) => c.method.toLowerCase());
    const holder = await enqueueJob(ctx.store, { kind: 'syspro.hold', connection: 'a' }, clock.now());
    const w = new Worker({
      store: ctx.store,
      clock,
      retry,
      pollMs: 1000,
      leaseMs: 600_000,
      handlers: [hold, queued],
    });
    w.start();
    await until(clock, () => calls().includes('query/query'), 'the holder to query in its session');
    const job = await enqueueJob(ctx.store, { kind: 'syspro.queued', connection: 'a' }, clock.now());
    w.notify('syspro.queued');
    await until(clock, async () => (await getJob(ctx.store, job.id))?.state === 'running', 'the job to run');
    await clock.settle();
    const stopping = w.stop(30_000);
    await until(
      clock,
      async () => (await listAttempts(ctx.store, job.id)).some((a) => a.outcome === 'released'),
      'the queued job given back while the holder still holds the session',
    );
    const given = await getJob(ctx.store, job.id);
    assert.equal(given?.state, 'queued');
    assert.equal(given?.attempts, 0, 'the attempt does not count');
    assert.equal(given?.inDoubt, null);
    assert.equal((await getJob(ctx.store, holder.id))?.state, 'running', 'the holder is still at work');
    open();
    await stopping;
    assert.equal(queuedRan, false);
    assert.equal((await getJob(ctx.store, holder.id))?.state, 'succeeded');
    assert.deepEqual(calls(), ['logon', 'query/query', 'logoff'], 'nothing of the queued job reached SYSPRO');
  });
});
