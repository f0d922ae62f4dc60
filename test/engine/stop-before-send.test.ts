/**
 * What `worker.stop()` does to jobs that talk to ShipStation, on SQLite and PostgreSQL: the real
 * transport over HTTP to the sandbox, the worker, limiter and sandbox on one fake clock that only
 * the test moves (so a wait that the stop does not end shows as a stop that never resolves).
 * - A job waiting in the rate limiter has sent nothing: the stop ends the wait at once and gives the
 *   job back (queued, the attempt not counted), with no fake time passing and nothing sent.
 * - A request in flight is let finish and its outcome recorded as usual.
 * - A write that is not safe to repeat, still in flight at the timeout, is aborted and marked in
 *   doubt (checked before anything is sent again), not given back to be sent blindly.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, it } from 'node:test';
import { handleEachJob, type JobHandler } from '../../src/engine/handler.js';
import { Worker } from '../../src/engine/worker.js';
import { type ShipStationSandbox, startShipStationSandbox } from '../../src/sandbox/shipstation/index.js';
import { DEFAULT_RETRY, ShipStationTransport } from '../../src/shipstation/http.js';
import { MemoryRateLimiter } from '../../src/shipstation/memory-rate-limiter.js';
import { enqueueJob } from '../../src/store/jobs/enqueue.js';
import { getJob, listAttempts } from '../../src/store/jobs/queries.js';
import { FakeClock } from '../helpers/clock.js';
import { forEachDialect } from '../helpers/dialects.js';

const retry = { cadence: [60_000], perKind: {}, jitter: 0 };
const KEY = 'shipstation-v1:test';

/** Waits (real time, bounded) until `check` holds, letting I/O complete; the fake clock stays put. */
async function until(clock: FakeClock, check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const cap = Date.now() + 5000;
  while (!(await check())) {
    if (Date.now() > cap) throw new Error(`timed out waiting for ${what} (fake time ${clock.now()})`);
    await clock.settle(1);
  }
}

forEachDialect('worker stop with ShipStation requests', (ctx) => {
  let clock: FakeClock;
  let sandbox: ShipStationSandbox;
  let limiter: MemoryRateLimiter;
  let transport: ShipStationTransport;

  before(async () => {
    clock = new FakeClock(Date.parse('2026-01-15T20:00:00Z'), { autoAdvance: false });
    sandbox = await startShipStationSandbox({ port: 0, clock, seed: 3, backgroundTimers: false });
  });
  after(async () => {
    await sandbox.close();
  });
  beforeEach(async () => {
    await ctx.store.db.deleteFrom('job_attempts').execute();
    await ctx.store.db.deleteFrom('jobs').execute();
    sandbox.faults.clear();
    seenBefore = sandbox.requests().length;
    useLimit(40);
  });

  /** A fresh budget of `limit` requests a minute for the key, and the transport spending it. */
  function useLimit(limit: number): void {
    limiter = new MemoryRateLimiter({ clock, limit, windowMs: 60_000 });
    transport = new ShipStationTransport({
      api: 'v1',
      baseUrl: sandbox.url,
      authHeaders: {
        authorization: `Basic ${Buffer.from(`${sandbox.apiKey}:${sandbox.apiSecret}`).toString('base64')}`,
      },
      limiter,
      limiterKey: KEY,
      clock,
      timeoutMs: 60_000,
      retry: DEFAULT_RETRY,
    });
  }

  let seenBefore = 0;
  /** API requests the sandbox received in this test. */
  const requests = () => sandbox.requests().length - seenBefore;
  const read = (): JobHandler =>
    handleEachJob('ss.read', (_job, { signal }) =>
      transport.request({ method: 'GET', path: '/warehouses', idempotent: true, signal }),
    );
  const write = (): JobHandler =>
    handleEachJob(
      'ss.write',
      (_job, { signal }) =>
        transport.request({
          method: 'POST',
          path: '/orders/createorder',
          body: { orderNumber: 'STOP-1', orderKey: 'T:STOP-1', orderStatus: 'awaiting_shipment' },
          idempotent: false,
          signal,
        }),
      { checksInDoubt: true },
    );
  const worker = (handler: JobHandler) =>
    new Worker({ store: ctx.store, clock, retry, pollMs: 1000, leaseMs: 600_000, handlers: [handler] });

  it('a job waiting in the rate limiter is given back at once, nothing sent, no time waited', async () => {
    // The key's budget is spent: the next request waits about a window for a slot.
    useLimit(1);
    await limiter.acquire(KEY);
    const t0 = clock.now();
    const job = await enqueueJob(ctx.store, { kind: 'ss.read', connection: 'a' }, t0);
    const w = worker(read());
    w.start();
    await until(clock, async () => (await getJob(ctx.store, job.id))?.state === 'running', 'the job to run');
    await clock.settle();
    let stopped = false;
    const stopping = w.stop(30_000).then(() => {
      stopped = true;
    });
    await until(clock, () => stopped, 'the stop, with no fake time passing');
    await stopping;
    assert.equal(clock.now(), t0, 'the stop waited neither the window nor the 30 s timeout');
    const after = await getJob(ctx.store, job.id);
    assert.equal(after?.state, 'queued');
    assert.equal(after?.attempts, 0, 'the attempt does not count');
    assert.equal(after?.inDoubt, null);
    assert.deepEqual(
      (await listAttempts(ctx.store, job.id)).map((a) => a.outcome),
      ['released'],
    );
    assert.equal(requests(), 0, 'nothing reached ShipStation');
  });

  it('a request in flight when the stop begins is let finish, and its outcome recorded', async () => {
    sandbox.faults.add({ route: '/warehouses', latencyMs: 300 });
    const job = await enqueueJob(ctx.store, { kind: 'ss.read', connection: 'a' }, clock.now());
    const w = worker(read());
    w.start();
    await until(clock, () => requests() === 1, 'the request to reach ShipStation');
    await w.stop(30_000);
    const after = await getJob(ctx.store, job.id);
    assert.equal(after?.state, 'succeeded');
    assert.equal(after?.attempts, 1);
  });

  it('a write still in flight at the timeout is aborted and marked in doubt, not given back to be sent again', async () => {
    sandbox.faults.add({ route: '/orders/createorder', hang: 1 });
    const job = await enqueueJob(ctx.store, { kind: 'ss.write', connection: 'a' }, clock.now());
    const w = worker(write());
    w.start();
    await until(clock, () => requests() === 1, 'the write to reach ShipStation');
    let stopped = false;
    const stopping = w.stop(1000).then(() => {
      stopped = true;
    });
    await clock.tickAsync(1000);
    await until(clock, () => stopped, 'the stop after the timeout');
    await stopping;
    const after = await getJob(ctx.store, job.id);
    assert.equal(after?.state, 'queued', 'retried on its cadence');
    assert.equal(after?.attempts, 1, 'the attempt counts: the write may have happened');
    assert.ok(after?.inDoubt, 'marked in doubt: the handler checks ShipStation before sending again');
    assert.match(String(after?.inDoubt?.error), /aborted while under way.*may have reached ShipStation/);
    assert.equal(requests(), 1, 'sent once');
  });
});
