/** The job store on SQLite and PostgreSQL: enqueue, claim, heartbeat, complete, fail, expiry, replay. */
import assert from 'node:assert/strict';
import { beforeEach, it } from 'node:test';
import { sql } from 'kysely';
import { claimJobs } from '../../src/store/jobs/claim.js';
import { completeJobs } from '../../src/store/jobs/complete.js';
import { enqueueJob, enqueueJobs } from '../../src/store/jobs/enqueue.js';
import { requeueExpiredLeases } from '../../src/store/jobs/expire.js';
import { failJob } from '../../src/store/jobs/fail.js';
import { extendLeases } from '../../src/store/jobs/heartbeat.js';
import { purgeFinishedJobs } from '../../src/store/jobs/purge.js';
import { countJobsByKindAndState, getJob, listAttempts } from '../../src/store/jobs/queries.js';
import { releaseJobs } from '../../src/store/jobs/release.js';
import { findReplayCandidates, replayJobs } from '../../src/store/jobs/replay.js';
import { openStore, type Store } from '../../src/store/open.js';
import { forEachDialect } from '../helpers/dialects.js';

const T0 = Date.parse('2026-01-15T12:00:00Z');
const LEASE = 30_000;

forEachDialect('job store', (ctx) => {
  beforeEach(async () => {
    await ctx.store.db.deleteFrom('job_attempts').execute();
    await ctx.store.db.deleteFrom('jobs').execute();
  });

  /**
   * Stores for concurrent claimers: on PostgreSQL each has its own pool, connected before the race
   * starts (so no claimer is held back by its first connect); on SQLite, the suite's one store.
   */
  const claimerStores = async (n: number): Promise<Store[]> => {
    if (ctx.dialect !== 'postgres') return Array.from({ length: n }, () => ctx.store);
    const stores = Array.from({ length: n }, () => openStore(ctx.url, { poolSize: 2 }));
    await Promise.all(stores.flatMap((store) => [1, 2].map(() => sql`select 1`.execute(store.db))));
    return stores;
  };
  const closeClaimerStores = async (stores: Store[]) => {
    for (const store of stores) if (store !== ctx.store) await store.close();
  };

  it('a second enqueue of a queued key coalesces into it; a finished key can be used again', async () => {
    const first = await enqueueJob(
      ctx.store,
      { kind: 'orders.push', connection: 'a', idempotencyKey: 'k1' },
      T0,
    );
    const second = await enqueueJob(
      ctx.store,
      { kind: 'orders.push', connection: 'a', idempotencyKey: 'k1' },
      T0,
    );
    assert.deepEqual(second, { id: first.id, created: false });
    assert.equal(first.created, true);
    const [job] = await claimJobs(ctx.store, {
      kind: 'orders.push',
      limit: 5,
      owner: 'w1',
      leaseMs: LEASE,
      now: T0,
    });
    await completeJobs(ctx.store, 'w1', [{ id: job!.id }], T0 + 1);
    const third = await enqueueJob(
      ctx.store,
      { kind: 'orders.push', connection: 'a', idempotencyKey: 'k1' },
      T0 + 2,
    );
    assert.equal(third.created, true);
    assert.notEqual(third.id, first.id);
  });

  it('batch enqueue reports duplicates within the call and against active jobs', async () => {
    await enqueueJob(ctx.store, { kind: 'x', connection: 'a', idempotencyKey: 'dup-active' }, T0);
    const results = await enqueueJobs(
      ctx.store,
      [
        { kind: 'x', connection: 'a', idempotencyKey: 'n1' },
        { kind: 'x', connection: 'a' },
        { kind: 'x', connection: 'a', idempotencyKey: 'n1' },
        { kind: 'x', connection: 'a', idempotencyKey: 'dup-active' },
      ],
      T0,
    );
    assert.deepEqual(
      results.map((r) => r.created),
      [true, true, false, false],
    );
    assert.equal(results[2]!.id, results[0]!.id);
    const counts = await countJobsByKindAndState(ctx.store);
    assert.deepEqual(counts, [{ kind: 'x', state: 'queued', count: 3 }]);
  });

  it('claims a batch of one kind for one connection, oldest first, only due jobs, none twice', async () => {
    const jobs = [];
    for (let i = 0; i < 150; i++)
      jobs.push({ kind: 'orders.push', connection: 'a', payload: { n: i }, runAt: T0 + i });
    jobs.push({ kind: 'orders.push', connection: 'b', runAt: T0 + 500 });
    jobs.push({ kind: 'other', connection: 'a', runAt: T0 });
    jobs.push({ kind: 'orders.push', connection: 'a', runAt: T0 + 60_000 });
    await enqueueJobs(ctx.store, jobs, T0);
    const now = T0 + 10_000;
    const first = await claimJobs(ctx.store, {
      kind: 'orders.push',
      limit: 100,
      owner: 'w1',
      leaseMs: LEASE,
      now,
    });
    assert.equal(first.length, 100);
    assert.ok(first.every((j) => j.connection === 'a' && j.kind === 'orders.push' && j.state === 'running'));
    assert.deepEqual(
      first.map((j) => (j.payload as { n: number }).n),
      [...Array(100).keys()],
    );
    assert.equal(first[0]!.attempts, 1);
    assert.equal(first[0]!.leaseOwner, 'w1');
    assert.equal(first[0]!.leaseExpiresAt, now + LEASE);
    const second = await claimJobs(ctx.store, {
      kind: 'orders.push',
      connection: 'a',
      limit: 100,
      owner: 'w2',
      leaseMs: LEASE,
      now,
    });
    assert.equal(second.length, 50, 'the rest of a, not the future job');
    const third = await claimJobs(ctx.store, {
      kind: 'orders.push',
      limit: 100,
      owner: 'w2',
      leaseMs: LEASE,
      now,
    });
    assert.deepEqual(
      third.map((j) => j.connection),
      ['b'],
    );
    assert.equal(
      (await claimJobs(ctx.store, { kind: 'orders.push', limit: 100, owner: 'w3', leaseMs: LEASE, now }))
        .length,
      0,
    );
  });

  it('runs one job per group key at a time, other groups in parallel', async () => {
    await enqueueJobs(
      ctx.store,
      [
        { kind: 'shipments.writeback', connection: 'a', groupKey: 'syspro:a', payload: { n: 1 } },
        { kind: 'shipments.writeback', connection: 'a', groupKey: 'syspro:a', payload: { n: 2 } },
        { kind: 'freight.post', connection: 'a', groupKey: 'syspro:a', payload: { n: 3 } },
        { kind: 'shipments.writeback', connection: 'b', groupKey: 'syspro:b', payload: { n: 4 } },
      ],
      T0,
    );
    const a = await claimJobs(ctx.store, {
      kind: 'shipments.writeback',
      connection: 'a',
      limit: 10,
      owner: 'w1',
      leaseMs: LEASE,
      now: T0,
    });
    assert.deepEqual(
      a.map((j) => (j.payload as { n: number }).n),
      [1],
    );
    // Same group, other kind: waits for the running write.
    assert.equal(
      (await claimJobs(ctx.store, { kind: 'freight.post', limit: 10, owner: 'w2', leaseMs: LEASE, now: T0 }))
        .length,
      0,
    );
    assert.equal(
      (
        await claimJobs(ctx.store, {
          kind: 'shipments.writeback',
          connection: 'a',
          limit: 10,
          owner: 'w2',
          leaseMs: LEASE,
          now: T0,
        })
      ).length,
      0,
    );
    const b = await claimJobs(ctx.store, {
      kind: 'shipments.writeback',
      connection: 'b',
      limit: 10,
      owner: 'w2',
      leaseMs: LEASE,
      now: T0,
    });
    assert.equal(b.length, 1);
    await completeJobs(ctx.store, 'w1', [{ id: a[0]!.id }], T0 + 5);
    const next = await claimJobs(ctx.store, {
      kind: 'shipments.writeback',
      connection: 'a',
      limit: 10,
      owner: 'w2',
      leaseMs: LEASE,
      now: T0 + 5,
    });
    assert.deepEqual(
      next.map((j) => (j.payload as { n: number }).n),
      [2],
    );
  });

  it('a claim without a connection is fair: a backlog or a busy group on one connection does not hold back another', async () => {
    const claim = (owner: string, limit = 2) =>
      claimJobs(ctx.store, { kind: 'shipments.writeback', limit, owner, leaseMs: LEASE, now: T0 + 10 });
    const jobs = [];
    for (let n = 1; n <= 6; n++)
      jobs.push({ kind: 'shipments.writeback', connection: 'a', groupKey: 'syspro:a', payload: { n } });
    await enqueueJobs(ctx.store, jobs, T0);
    await enqueueJobs(
      ctx.store,
      [{ kind: 'shipments.writeback', connection: 'b', groupKey: 'syspro:b', payload: { n: 7 } }],
      T0 + 1,
    );
    await enqueueJobs(
      ctx.store,
      [1, 2, 3].map((n) => ({ kind: 'shipments.writeback', connection: 'c', payload: { n: 10 + n } })),
      T0 + 2,
    );
    const n = (js: Awaited<ReturnType<typeof claim>>) =>
      js.map((j) => [j.connection, (j.payload as { n: number }).n]);
    // a has the oldest jobs: one of them (its group allows one at a time).
    assert.deepEqual(n(await claim('w1')), [['a', 1]]);
    // a is busy now and its group blocks the rest; b and c run in parallel.
    assert.deepEqual(n(await claim('w2')), [['b', 7]]);
    assert.deepEqual(n(await claim('w3')), [
      ['c', 11],
      ['c', 12],
    ]);
    // Every connection has one running batch now; a's group is still busy, so c's last job goes.
    assert.deepEqual(n(await claim('w4')), [['c', 13]]);
    assert.deepEqual(await claim('w5'), []);
  });

  it('without group keys, successive claims spread over connections instead of draining the oldest backlog first', async () => {
    const jobs = [];
    for (let i = 0; i < 50; i++) jobs.push({ kind: 'orders.push', connection: 'big', payload: { i } });
    await enqueueJobs(ctx.store, jobs, T0);
    await enqueueJobs(ctx.store, [{ kind: 'orders.push', connection: 'small', payload: { i: 99 } }], T0 + 5);
    const claim = (owner: string) =>
      claimJobs(ctx.store, { kind: 'orders.push', limit: 10, owner, leaseMs: LEASE, now: T0 + 10 });
    assert.deepEqual([...new Set((await claim('w1')).map((j) => j.connection))], ['big']);
    assert.deepEqual(
      (await claim('w2')).map((j) => j.connection),
      ['small'],
      'the second claimer serves the connection with nothing running',
    );
    assert.deepEqual([...new Set((await claim('w3')).map((j) => j.connection))], ['big']);
  });

  it("a fair claim passes over a connection whose capacity its running batches fill (its key's budget spent)", async () => {
    // The oldest backlog is on `spent`, whose ShipStation key has no request left in its window:
    // a batch of it would only wait in the limiter, so the claim serves `fresh` instead.
    const jobs = [];
    for (let i = 0; i < 5; i++) jobs.push({ kind: 'orders.push', connection: 'spent', payload: { i } });
    await enqueueJobs(ctx.store, jobs, T0);
    await enqueueJobs(ctx.store, [{ kind: 'orders.push', connection: 'fresh', payload: { i: 9 } }], T0 + 5);
    await enqueueJobs(ctx.store, [{ kind: 'orders.push', connection: 'one', payload: { i: 7 } }], T0 + 6);
    await enqueueJobs(ctx.store, [{ kind: 'orders.push', connection: 'one', payload: { i: 8 } }], T0 + 7);
    const claim = (owner: string, capacity: Map<string, number>) =>
      claimJobs(ctx.store, { kind: 'orders.push', limit: 1, owner, leaseMs: LEASE, now: T0 + 10, capacity });
    const room = new Map([
      ['spent', 0],
      ['one', 1],
    ]);
    assert.deepEqual(
      (await claim('w1', room)).map((j) => j.connection),
      ['fresh'],
      'not in the map: not limited',
    );
    assert.deepEqual(
      (await claim('w2', room)).map((j) => j.connection),
      ['one'],
    );
    assert.deepEqual(
      await claim('w3', room),
      [],
      "one's running batch takes its one request; spent has none",
    );
    room.set('spent', 1);
    assert.deepEqual(
      (await claim('w4', room)).map((j) => j.connection),
      ['spent'],
      'its window ended',
    );
    assert.deepEqual(
      (await claim('w5', new Map())).map((j) => j.connection),
      ['spent'],
      'an empty map limits nothing',
    );
  });

  it('concurrent claimers, each with its own database connections, never take a job twice and keep a group to one job', async () => {
    // PostgreSQL: four stores (four pools) on one database, claiming at once, so the claims really
    // overlap (FOR UPDATE SKIP LOCKED, the jobs_running_group index). SQLite serves one process: four
    // claimers on its one store, started together, interleave there as they would in a worker.
    const stores = await claimerStores(4);
    try {
      const jobs = [];
      for (let i = 0; i < 300; i++)
        jobs.push({ kind: 'orders.push', connection: `c${i % 3}`, payload: { i }, runAt: T0 + (i % 7) });
      for (let i = 0; i < 6; i++)
        jobs.push({
          kind: 'orders.push',
          connection: `c${i % 3}`,
          groupKey: 'syspro:shared',
          payload: { g: i },
        });
      await enqueueJobs(ctx.store, jobs, T0);
      const taken = new Map<number, string>();
      const twice: string[] = [];
      let groupRunning = 0;
      await Promise.all(
        stores.map(async (store, n) => {
          const owner = `w${n}`;
          for (;;) {
            const claimed = await claimJobs(store, {
              kind: 'orders.push',
              limit: 10,
              owner,
              leaseMs: LEASE,
              now: T0 + 10,
            });
            if (claimed.length === 0) return;
            assert.ok(claimed.length <= 10);
            for (const job of claimed) {
              if (taken.has(job.id)) twice.push(`job ${job.id}: ${taken.get(job.id)} and ${owner}`);
              taken.set(job.id, owner);
              if (job.groupKey !== null) groupRunning++;
              assert.equal(job.leaseOwner, owner);
            }
          }
        }),
      );
      assert.deepEqual(twice, [], 'no job was claimed by two claimers');
      assert.equal(groupRunning, 1, 'one job of the shared group, although all four raced for it');
      assert.equal(taken.size, 301);
      assert.equal(new Set(taken.values()).size > 1, true, 'the work was shared between claimers');
      // Nothing claimable was left behind, and the database agrees with what the claimers saw.
      assert.deepEqual(
        await claimJobs(ctx.store, {
          kind: 'orders.push',
          limit: 100,
          owner: 'late',
          leaseMs: LEASE,
          now: T0 + 10,
        }),
        [],
      );
      const running = await ctx.store.db
        .selectFrom('jobs')
        .select(['id', 'lease_owner'])
        .where('state', '=', 'running')
        .execute();
      assert.equal(running.length, 301);
      for (const row of running) assert.equal(row.lease_owner, taken.get(Number(row.id)));
      const attempts = await ctx.store.db
        .selectFrom('jobs')
        .select('id')
        .where('attempts', '!=', (eb) => eb.case().when('state', '=', 'running').then(1).else(0).end())
        .execute();
      assert.deepEqual(attempts, [], 'each claimed job was started once, the others not at all');
    } finally {
      await closeClaimerStores(stores);
    }
  });

  // Failed before the fairness order was read inside the claim's transaction (claims of a kind now
  // take turns): two claims at once both saw nothing running and both drained the oldest backlog.
  it('concurrent claimers spread over connections instead of draining the oldest backlog first', async () => {
    const stores = await claimerStores(2);
    try {
      const jobs = [];
      for (let i = 0; i < 50; i++) jobs.push({ kind: 'orders.push', connection: 'big', payload: { i } });
      await enqueueJobs(ctx.store, jobs, T0);
      await enqueueJobs(
        ctx.store,
        [{ kind: 'orders.push', connection: 'small', payload: { i: 99 } }],
        T0 + 5,
      );
      const claimed = await Promise.all(
        stores.map((store, n) =>
          claimJobs(store, { kind: 'orders.push', limit: 10, owner: `w${n}`, leaseMs: LEASE, now: T0 + 10 }),
        ),
      );
      const ids = claimed.flat().map((j) => j.id);
      assert.equal(new Set(ids).size, ids.length, 'no job claimed twice');
      assert.deepEqual(
        claimed.map((js) => [...new Set(js.map((j) => j.connection))]).sort(),
        [['big'], ['small']],
        'one claimer took the backlog, the other the connection with nothing running',
      );
    } finally {
      await closeClaimerStores(stores);
    }
  });

  it('a job that keeps losing its lease becomes dead instead of looping for ever', async () => {
    const { id } = await enqueueJob(ctx.store, { kind: 'poison', connection: 'a' }, T0);
    let now = T0;
    for (let attempt = 1; attempt <= 3; attempt++) {
      const [job] = await claimJobs(ctx.store, {
        kind: 'poison',
        limit: 1,
        owner: `w${attempt}`,
        leaseMs: LEASE,
        now,
      });
      assert.equal(job?.id, id, `attempt ${attempt} claims the job`);
      now += LEASE + 1;
      assert.deepEqual(await requeueExpiredLeases(ctx.store, now, 3), [id]);
    }
    const row = await getJob(ctx.store, id);
    assert.equal(row!.state, 'dead');
    assert.match(row!.lastError ?? '', /keeps losing its lease|stops or hangs every process/);
    const attempts = await listAttempts(ctx.store, id);
    assert.equal(attempts.filter((a) => a.outcome === 'lease_expired').length, 3);
    assert.deepEqual(
      await claimJobs(ctx.store, { kind: 'poison', limit: 1, owner: 'w9', leaseMs: LEASE, now }),
      [],
    );
    assert.deepEqual(
      (await replayJobs(ctx.store, { ids: [id] }, now)).replayed,
      [id],
      'and it can be replayed',
    );
  });

  it('a lost lease cannot complete or fail; heartbeats keep a lease; expiry requeues and records the attempt', async () => {
    const { id } = await enqueueJob(ctx.store, { kind: 'k', connection: 'a' }, T0);
    const [job] = await claimJobs(ctx.store, {
      kind: 'k',
      limit: 1,
      owner: 'dead-worker',
      leaseMs: LEASE,
      now: T0,
    });
    assert.equal(job!.id, id);
    assert.deepEqual(await extendLeases(ctx.store, 'dead-worker', [id], LEASE, T0 + 20_000), [id]);
    assert.deepEqual(await requeueExpiredLeases(ctx.store, T0 + 40_000), [], 'the heartbeat moved the lease');
    assert.deepEqual(await requeueExpiredLeases(ctx.store, T0 + 50_001), [id]);
    let row = await getJob(ctx.store, id);
    assert.equal(row!.state, 'queued');
    assert.equal(row!.leaseOwner, null);
    // The old owner comes back too late: nothing it says counts.
    assert.deepEqual(await completeJobs(ctx.store, 'dead-worker', [{ id }], T0 + 50_002), []);
    assert.equal(await failJob(ctx.store, 'dead-worker', id, 'boom', null, T0 + 50_002), false);
    assert.deepEqual(await extendLeases(ctx.store, 'dead-worker', [id], LEASE, T0 + 50_002), []);
    const [again] = await claimJobs(ctx.store, {
      kind: 'k',
      limit: 1,
      owner: 'w2',
      leaseMs: LEASE,
      now: T0 + 50_003,
    });
    assert.equal(again!.attempts, 2);
    assert.deepEqual(await completeJobs(ctx.store, 'w2', [{ id, result: { pushed: 3 } }], T0 + 50_010), [id]);
    row = await getJob(ctx.store, id);
    assert.equal(row!.state, 'succeeded');
    const history = await listAttempts(ctx.store, id);
    assert.deepEqual(
      history.map((h) => [h.attempt, h.worker, h.outcome]),
      [
        [1, 'dead-worker', 'lease_expired'],
        [2, 'w2', 'succeeded'],
      ],
    );
    assert.deepEqual(history[1]!.result, { pushed: 3 });
  });

  it('fail with a retry time requeues; without one the job is dead with its error', async () => {
    const { id } = await enqueueJob(ctx.store, { kind: 'k', connection: 'a' }, T0);
    await claimJobs(ctx.store, { kind: 'k', limit: 1, owner: 'w', leaseMs: LEASE, now: T0 });
    assert.equal(await failJob(ctx.store, 'w', id, 'SYSPRO unavailable', T0 + 60_000, T0 + 1), true);
    let job = await getJob(ctx.store, id);
    assert.equal(job!.state, 'queued');
    assert.equal(job!.runAt, T0 + 60_000);
    assert.equal(
      (await claimJobs(ctx.store, { kind: 'k', limit: 1, owner: 'w', leaseMs: LEASE, now: T0 + 59_999 }))
        .length,
      0,
    );
    await claimJobs(ctx.store, { kind: 'k', limit: 1, owner: 'w', leaseMs: LEASE, now: T0 + 60_000 });
    await failJob(ctx.store, 'w', id, 'order 123: customer missing', null, T0 + 60_001);
    job = await getJob(ctx.store, id);
    assert.equal(job!.state, 'dead');
    assert.equal(job!.lastError, 'order 123: customer missing');
    assert.equal(job!.finishedAt, T0 + 60_001);
  });

  it('release gives jobs back without using up an attempt', async () => {
    const { id } = await enqueueJob(ctx.store, { kind: 'k', connection: 'a' }, T0);
    await claimJobs(ctx.store, { kind: 'k', limit: 1, owner: 'w', leaseMs: LEASE, now: T0 });
    assert.deepEqual(await releaseJobs(ctx.store, 'w', [id], T0 + 5), [id]);
    const job = await getJob(ctx.store, id);
    assert.equal(job!.state, 'queued');
    assert.equal(job!.attempts, 0);
    assert.deepEqual(
      (await listAttempts(ctx.store, id)).map((a) => a.outcome),
      ['released'],
    );
  });

  it('replay by error text matches _ and % literally and ignores case', async () => {
    const kill = async (connection: string, error: string) => {
      const { id } = await enqueueJob(ctx.store, { kind: 'orders.push', connection }, T0);
      await claimJobs(ctx.store, {
        kind: 'orders.push',
        connection,
        limit: 1,
        owner: 'w',
        leaseMs: LEASE,
        now: T0,
      });
      await failJob(ctx.store, 'w', id, error, null, T0);
      return id;
    };
    const underscore = await kill('a', 'V2 400: invalid_field_value on sku');
    const lookalike = await kill('b', 'V2 400: invalidXfieldXvalue on sku');
    const percent = await kill('c', 'Freight is 100% of order value');
    await kill('d', 'Freight is 1000 of order value');
    const plain = await kill('e', 'SYSPRO: Sales Order 000123 Is Locked');
    assert.deepEqual(
      (await replayJobs(ctx.store, { errorContains: 'invalid_field_value' }, T0 + 1)).replayed,
      [underscore],
    );
    assert.deepEqual((await replayJobs(ctx.store, { errorContains: '100%' }, T0 + 1)).replayed, [percent]);
    assert.deepEqual((await replayJobs(ctx.store, { errorContains: 'is locked' }, T0 + 1)).replayed, [plain]);
    assert.equal((await getJob(ctx.store, lookalike))!.state, 'dead');
  });

  it('replay by id, by kind, by connection and by error text; a key held by an active job is skipped', async () => {
    const make = async (kind: string, connection: string, error: string, key?: string) => {
      const { id } = await enqueueJob(ctx.store, { kind, connection, idempotencyKey: key ?? null }, T0);
      await claimJobs(ctx.store, { kind, connection, limit: 1, owner: 'w', leaseMs: LEASE, now: T0 });
      await failJob(ctx.store, 'w', id, error, null, T0 + 1);
      return id;
    };
    const a1 = await make('orders.push', 'a', 'HTTP 400 bad address');
    const a2 = await make('orders.push', 'b', 'HTTP 400 bad sku');
    const a3 = await make('shipments.writeback', 'a', 'SYSPRO: dispatch note locked');
    const a4 = await make('shipments.writeback', 'b', 'SYSPRO: dispatch note locked', 'ship:9');
    // A newer active job for the same shipment.
    await enqueueJob(
      ctx.store,
      { kind: 'shipments.writeback', connection: 'b', idempotencyKey: 'ship:9' },
      T0 + 2,
    );

    assert.deepEqual((await replayJobs(ctx.store, { ids: [a1] }, T0 + 10)).replayed, [a1]);
    assert.deepEqual(
      (await replayJobs(ctx.store, { connection: 'b', kind: 'orders.push' }, T0 + 10)).replayed,
      [a2],
    );
    const byError = await replayJobs(ctx.store, { errorContains: 'dispatch note' }, T0 + 10);
    assert.deepEqual(byError.replayed, [a3]);
    assert.equal(byError.skipped.length, 1);
    assert.equal(byError.skipped[0]!.id, a4);
    const job = await getJob(ctx.store, a3);
    assert.equal(job!.state, 'queued');
    assert.equal(job!.attempts, 0);
    assert.equal(job!.replays, 1);
    assert.equal(job!.runAt, T0 + 10);
    assert.equal((await listAttempts(ctx.store, a3)).length, 1, 'the dead attempt is still in the history');
  });

  it('replay skips a dead job superseded by a newer succeeded job with its key, unless forced', async () => {
    const run = async (key: string, ok: boolean, at: number) => {
      const { id } = await enqueueJob(
        ctx.store,
        { kind: 'shipments.writeback', connection: 'a', idempotencyKey: key },
        at,
      );
      await claimJobs(ctx.store, {
        kind: 'shipments.writeback',
        limit: 1,
        owner: 'w',
        leaseMs: LEASE,
        now: at,
      });
      if (ok) await completeJobs(ctx.store, 'w', [{ id }], at + 1);
      else await failJob(ctx.store, 'w', id, 'SYSPRO: timeout', null, at + 1);
      return id;
    };
    const dead = await run('ship:5', false, T0 + 10);
    const superseding = await run('ship:5', true, T0 + 20);
    const alone = await run('ship:6', false, T0 + 30);
    // A job that succeeded BEFORE the dead one was created does not supersede it.
    await run('ship:7', true, T0 + 40);
    const stillNeeded = await run('ship:7', false, T0 + 50);

    const dry = await findReplayCandidates(ctx.store, { kind: 'shipments.writeback' });
    assert.deepEqual(
      dry.map((c) => [c.id, c.supersededBy]),
      [
        [dead, superseding],
        [alone, null],
        [stillNeeded, null],
      ],
    );
    const result = await replayJobs(ctx.store, { kind: 'shipments.writeback' }, T0 + 100);
    assert.deepEqual(result.replayed, [alone, stillNeeded]);
    assert.deepEqual(result.skipped, [{ id: dead, reason: `superseded by job ${superseding}` }]);
    assert.equal((await getJob(ctx.store, dead))!.state, 'dead');
    const forced = await replayJobs(ctx.store, { ids: [dead] }, T0 + 200, { force: true });
    assert.deepEqual(forced.replayed, [dead]);
  });

  it('purge deletes old succeeded and cancelled jobs with their attempts, and keeps dead, active and recent ones', async () => {
    const DAY = 86_400_000;
    const finish = async (connection: string, at: number, ok: boolean) => {
      const { id } = await enqueueJob(ctx.store, { kind: 'orders.push', connection }, at);
      await claimJobs(ctx.store, {
        kind: 'orders.push',
        connection,
        limit: 1,
        owner: 'w',
        leaseMs: LEASE,
        now: at,
      });
      if (ok) await completeJobs(ctx.store, 'w', [{ id }], at);
      else await failJob(ctx.store, 'w', id, 'HTTP 400 bad address', null, at);
      return id;
    };
    for (let i = 0; i < 7; i++) await finish(`old${i}`, T0, true);
    const cancelled = (await enqueueJob(ctx.store, { kind: 'orders.push', connection: 'x' }, T0)).id;
    await ctx.store.db
      .updateTable('jobs')
      .set({ state: 'cancelled', finished_at: T0 })
      .where('id', '=', cancelled)
      .execute();
    const oldDead = await finish('dead', T0, false);
    const recent = await finish('recent', T0 + 29 * DAY, true);
    const queued = (await enqueueJob(ctx.store, { kind: 'orders.push', connection: 'q' }, T0)).id;
    const running = (await enqueueJob(ctx.store, { kind: 'orders.push', connection: 'r' }, T0)).id;
    await claimJobs(ctx.store, {
      kind: 'orders.push',
      connection: 'r',
      limit: 1,
      owner: 'w',
      leaseMs: LEASE,
      now: T0,
    });

    // Cutoff: 30 days before T0 + 31 days, i.e. everything finished before T0 + 1 day. Batches of 3.
    const purged = await purgeFinishedJobs(ctx.store, { finishedBefore: T0 + DAY, batchSize: 3 });
    assert.equal(purged, 8, 'seven succeeded and one cancelled');
    const left = await ctx.store.db.selectFrom('jobs').select(['id']).orderBy('id').execute();
    assert.deepEqual(
      left.map((r) => Number(r.id)),
      [oldDead, recent, queued, running],
    );
    const attemptsLeft = await ctx.store.db.selectFrom('job_attempts').select(['job_id']).execute();
    assert.deepEqual(
      [...new Set(attemptsLeft.map((a) => Number(a.job_id)))].sort((a, b) => a - b),
      [oldDead, recent],
      'no attempt row of a purged job is left (the running job has none yet)',
    );
    assert.equal((await listAttempts(ctx.store, oldDead)).length, 1, 'the dead job keeps its history');
    assert.equal(
      await purgeFinishedJobs(ctx.store, { finishedBefore: T0 + DAY }),
      0,
      'a second purge finds nothing',
    );
  });
});
