/**
 * Idempotency keys on SQLite and PostgreSQL: an event for a key whose job is running gets a
 * follow-up job that runs after it (never dropped), events for a queued key coalesce into it, and
 * batch enqueue matches rows to inputs without relying on RETURNING order.
 */
import assert from 'node:assert/strict';
import { beforeEach, it } from 'node:test';
import { claimJobs } from '../../src/store/jobs/claim.js';
import { completeJobs } from '../../src/store/jobs/complete.js';
import { enqueueJob, enqueueJobs } from '../../src/store/jobs/enqueue.js';
import { requeueExpiredLeases } from '../../src/store/jobs/expire.js';
import { failJob } from '../../src/store/jobs/fail.js';
import { getJob } from '../../src/store/jobs/queries.js';
import { releaseJobs } from '../../src/store/jobs/release.js';
import { withWriteTransaction } from '../../src/store/jobs/transaction.js';
import { migrateToLatest } from '../../src/store/migrate.js';
import { openStore } from '../../src/store/open.js';
import { forEachDialect } from '../helpers/dialects.js';

const T0 = Date.parse('2026-01-15T12:00:00Z');
const LEASE = 30_000;
const KIND = 'shipments.writeback';

forEachDialect('job keys', (ctx) => {
  beforeEach(async () => {
    await ctx.store.db.deleteFrom('job_attempts').execute();
    await ctx.store.db.deleteFrom('jobs').execute();
  });

  const claim = (owner: string, now: number) =>
    claimJobs(ctx.store, { kind: KIND, limit: 10, owner, leaseMs: LEASE, now });
  const enqueue = (payload: unknown, now: number, runAt?: number) =>
    enqueueJob(ctx.store, { kind: KIND, connection: 'a', idempotencyKey: 'ship:1', payload, runAt }, now);

  it('an enqueue while the key runs makes a follow-up that runs after the running job, with the newer payload', async () => {
    const first = await enqueue({ v: 1 }, T0);
    const [running] = await claim('w1', T0);
    assert.equal(running!.id, first.id);

    const second = await enqueue({ v: 2 }, T0 + 1);
    assert.equal(second.created, true, 'the newer event is not dropped');
    assert.equal(second.followUp, true);
    assert.notEqual(second.id, first.id);
    // A third event while the follow-up waits coalesces into it: the newest payload wins.
    const third = await enqueue({ v: 3 }, T0 + 2);
    assert.deepEqual(third, { id: second.id, created: false });
    assert.deepEqual((await getJob(ctx.store, second.id))!.payload, { v: 3 });

    assert.deepEqual(await claim('w2', T0 + 3), [], 'the follow-up waits while its key runs');
    await completeJobs(ctx.store, 'w1', [{ id: first.id }], T0 + 4);
    const [next] = await claim('w2', T0 + 5);
    assert.equal(next!.id, second.id);
    assert.deepEqual(next!.payload, { v: 3 });
  });

  it('a follow-up waits for the job it follows also while that one waits for a retry, lost its lease or was released', async () => {
    const first = await enqueue({ v: 1 }, T0);
    await claim('w1', T0);
    const follow = await enqueue({ v: 2 }, T0 + 1);
    assert.equal(follow.followUp, true);

    // The running job fails and goes back to queued (slot kept: no conflict with the follow-up).
    assert.equal(await failJob(ctx.store, 'w1', first.id, 'SYSPRO down', T0 + 60_000, T0 + 2), true);
    assert.deepEqual(await claim('w2', T0 + 10), [], 'the follow-up does not overtake the retry');
    // A new event now coalesces into the newest queued job (the follow-up), not into the retry.
    assert.deepEqual(await enqueue({ v: 3 }, T0 + 11), { id: follow.id, created: false });
    assert.deepEqual((await getJob(ctx.store, first.id))!.payload, { v: 1 });

    const [retry] = await claim('w2', T0 + 60_000);
    assert.equal(retry!.id, first.id, 'the older job runs first');
    // Lease expiry and release also put it back to queued beside its follow-up.
    assert.deepEqual(await requeueExpiredLeases(ctx.store, T0 + 60_000 + LEASE + 1), [first.id]);
    const [again] = await claim('w3', T0 + 60_000 + LEASE + 2);
    assert.equal(again!.id, first.id);
    assert.deepEqual(await releaseJobs(ctx.store, 'w3', [first.id], T0 + 60_000 + LEASE + 3), [first.id]);
    const [last] = await claim('w3', T0 + 60_000 + LEASE + 4);
    assert.equal(last!.id, first.id);
    await completeJobs(ctx.store, 'w3', [{ id: first.id }], T0 + 60_000 + LEASE + 5);
    const [then] = await claim('w3', T0 + 60_000 + LEASE + 6);
    assert.equal(then!.id, follow.id);
    assert.deepEqual(then!.payload, { v: 3 });
  });

  it('coalescing keeps the earlier due time and the failures of a job waiting for a retry', async () => {
    const first = await enqueue({ v: 1 }, T0);
    await claim('w1', T0);
    await failJob(ctx.store, 'w1', first.id, 'SYSPRO down', T0 + 3_600_000, T0 + 1);
    const again = await enqueue({ v: 2 }, T0 + 2);
    assert.deepEqual(again, { id: first.id, created: false });
    const job = await getJob(ctx.store, first.id);
    assert.equal(job!.runAt, T0 + 2, 'the newer event brings the retry forward');
    assert.equal(job!.attempts, 1, 'its failures stay counted');
    assert.equal(job!.lastError, 'SYSPRO down');
    assert.deepEqual(job!.payload, { v: 2 });
    // A later due time never pushes a queued job back.
    await enqueue({ v: 3 }, T0 + 3, T0 + 9_999_999);
    assert.equal((await getJob(ctx.store, first.id))!.runAt, T0 + 2);
  });

  it('batch enqueue follows the same rules: follow-up behind a running key, coalesced into a queued one', async () => {
    const running = await enqueue({ v: 1 }, T0);
    await claim('w1', T0);
    const queued = await enqueueJob(ctx.store, { kind: KIND, connection: 'a', idempotencyKey: 'ship:2' }, T0);
    const results = await enqueueJobs(
      ctx.store,
      [
        { kind: KIND, connection: 'a', idempotencyKey: 'ship:1', payload: { v: 2 } },
        { kind: KIND, connection: 'a', idempotencyKey: 'ship:2', payload: { v: 2 } },
        { kind: KIND, connection: 'a', idempotencyKey: 'ship:1', payload: { v: 3 } },
      ],
      T0 + 1,
    );
    assert.equal(results[0]!.created, true);
    assert.equal(results[0]!.followUp, true);
    assert.notEqual(results[0]!.id, running.id);
    assert.deepEqual(results[1], { id: queued.id, created: false });
    assert.deepEqual(results[2], { id: results[0]!.id, created: false });
    assert.deepEqual(
      (await getJob(ctx.store, results[0]!.id))!.payload,
      { v: 3 },
      'the last event of the call',
    );
    assert.deepEqual((await getJob(ctx.store, queued.id))!.payload, { v: 2 });
  });

  it('batch enqueue gives each input its own row, whatever order RETURNING uses', async () => {
    const inputs = Array.from({ length: 1200 }, (_, i) => ({
      kind: 'orders.push',
      connection: 'a',
      payload: { n: i },
      idempotencyKey: i % 3 === 0 ? `order:${i}` : null,
    }));
    const results = await enqueueJobs(ctx.store, inputs, T0);
    assert.ok(results.every((r) => r.created));
    assert.equal(new Set(results.map((r) => r.id)).size, inputs.length);
    const rows = await ctx.store.db.selectFrom('jobs').select(['id', 'payload', 'idempotency_key']).execute();
    const byId = new Map(rows.map((r) => [Number(r.id), r]));
    results.forEach((r, i) => {
      const row = byId.get(r.id)!;
      assert.deepEqual(JSON.parse(row.payload), { n: i }, `input ${i} got row ${r.id}`);
      assert.equal(row.idempotency_key, inputs[i]!.idempotencyKey);
    });
    const ids = results.map((r) => r.id);
    assert.deepEqual(
      ids,
      [...ids].sort((a, b) => a - b),
      'ids follow the input order',
    );
    // It also runs inside a caller's transaction, and later enqueues get later ids.
    const inTx = await withWriteTransaction(ctx.store, (db) =>
      enqueueJobs({ ...ctx.store, db }, [{ kind: 'orders.push', connection: 'a', payload: { n: -1 } }], T0),
    );
    assert.ok(inTx[0]!.id > Math.max(...ids));
    const later = await enqueueJob(ctx.store, { kind: 'orders.push', connection: 'a' }, T0);
    assert.ok(later.id > Math.max(...ids));
  });

  it('processes racing on one key while it runs make exactly one follow-up', async () => {
    const first = await enqueue({ v: 0 }, T0);
    await claim('w1', T0);
    const stores = Array.from({ length: 4 }, () => openStore(ctx.url));
    try {
      const results = await Promise.all(
        stores.flatMap((store, s) =>
          [1, 2, 3].map((n) =>
            enqueueJob(
              store,
              { kind: KIND, connection: 'a', idempotencyKey: 'ship:1', payload: { s, n } },
              T0 + 1,
            ),
          ),
        ),
      );
      const ids = new Set(results.map((r) => r.id));
      assert.equal(ids.size, 1, 'every event went into one follow-up');
      assert.ok(!ids.has(first.id));
      assert.equal(results.filter((r) => r.created).length, 1);
      const active = await ctx.store.db
        .selectFrom('jobs')
        .select('state')
        .where('idempotency_key', '=', 'ship:1')
        .where('state', 'in', ['queued', 'running'])
        .execute();
      assert.deepEqual(active.map((a) => a.state).sort(), ['queued', 'running']);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });
});

it('a coalesce with a new run time reuses its prepared statement (no value inlined into the SQL)', async () => {
  // Values inlined as SQL literals make every call a new statement: on SQLite each is compiled
  // again and takes a place in the statement cache (native memory, sqlite-statements.ts).
  const store = openStore('sqlite::memory:');
  try {
    await migrateToLatest(store);
    const enqueue = (runAt: number) =>
      enqueueJob(store, { kind: KIND, connection: 'a', idempotencyKey: 'ship:1', payload: {}, runAt }, T0);
    await enqueue(T0 + 60_000);
    const coalesced = await enqueue(T0 + 50_000);
    assert.equal(coalesced.created, false);
    const cached = store.statements!.cachedStatements;
    for (let i = 1; i <= 5; i++) assert.equal((await enqueue(T0 + 50_000 - i * 1000)).created, false);
    assert.equal(store.statements!.cachedStatements, cached);
  } finally {
    await store.close();
  }
});
