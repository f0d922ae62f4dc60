/**
 * Inside a write transaction only the transaction's handle reaches the store: store.db (or a
 * handle taken from it) fails at once on both dialects, instead of deadlocking on SQLite or
 * writing outside the transaction on PostgreSQL. Each test is bounded by a short timeout so a
 * deadlock is a failure, not a hang.
 */
import assert from 'node:assert/strict';
import { beforeEach, it } from 'node:test';
import { appendAudit } from '../../src/store/audit.js';
import { claimJobs } from '../../src/store/jobs/claim.js';
import { completeJobs } from '../../src/store/jobs/complete.js';
import { enqueueJob } from '../../src/store/jobs/enqueue.js';
import { getJob } from '../../src/store/jobs/queries.js';
import { withWriteTransaction } from '../../src/store/jobs/transaction.js';
import { forEachDialect } from '../helpers/dialects.js';

const T0 = Date.parse('2026-01-15T12:00:00Z');
const ESCAPE = /use the transaction handle `db` passed to this callback/;
const FAST = { timeout: 3_000 };

forEachDialect('write transactions', (ctx) => {
  beforeEach(async () => {
    await ctx.store.db.deleteFrom('audit').execute();
    await ctx.store.db.deleteFrom('job_attempts').execute();
    await ctx.store.db.deleteFrom('jobs').execute();
  });

  const audit = (entityKey: string) => ({
    connection: 'tx',
    flow: 'test',
    entityType: 'order',
    entityKey,
    action: 'push',
    outcome: 'ok' as const,
  });
  const auditKeys = async () =>
    (await ctx.store.db.selectFrom('audit').select('entity_key').orderBy('id').execute()).map(
      (r) => r.entity_key,
    );

  it('store.db inside withWriteTransaction fails at once, and the transaction rolls back', FAST, async () => {
    await assert.rejects(
      withWriteTransaction(ctx.store, async (db) => {
        await appendAudit(db, audit('inside'));
        await appendAudit(ctx.store.db, audit('escaped'));
      }),
      ESCAPE,
    );
    assert.deepEqual(await auditKeys(), []);
  });

  it('a handle taken from the store before the transaction is refused too', FAST, async () => {
    const { db: outer } = ctx.store;
    await assert.rejects(
      withWriteTransaction(ctx.store, async () => {
        await outer.selectFrom('jobs').select('id').execute();
      }),
      ESCAPE,
    );
  });

  it('a nested withWriteTransaction on the same store is refused', FAST, async () => {
    await assert.rejects(
      withWriteTransaction(ctx.store, async () => withWriteTransaction(ctx.store, async () => 1)),
      ESCAPE,
    );
  });

  it(
    'the transaction handle works, and store.db works again once the transaction has ended',
    FAST,
    async () => {
      let later: Promise<unknown> | undefined;
      let release!: () => void;
      const gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      await withWriteTransaction(ctx.store, async (db) => {
        await appendAudit(db, audit('committed'));
        // Started inside, runs after the commit: the mark ends with the transaction.
        later = gate.then(() => appendAudit(ctx.store.db, audit('after')));
      });
      release();
      await later;
      assert.deepEqual(await auditKeys(), ['committed', 'after']);
    },
  );

  it('code outside the transaction is not affected while one is open', FAST, async () => {
    let entered!: () => void;
    const inside = new Promise<void>((resolve) => {
      entered = resolve;
    });
    let finish!: () => void;
    const hold = new Promise<void>((resolve) => {
      finish = resolve;
    });
    const tx = withWriteTransaction(ctx.store, async (db) => {
      await appendAudit(db, audit('tx'));
      entered();
      await hold;
    });
    await inside;
    // Not under the transaction's mark: waits for the connection on SQLite, runs on PostgreSQL.
    const outside = ctx.store.db.selectFrom('jobs').select('id').execute();
    finish();
    await tx;
    assert.deepEqual(await outside, []);
  });

  async function runningJob(): Promise<number> {
    const { id } = await enqueueJob(ctx.store, { kind: 'orders.push', connection: 'tx' }, T0);
    const claimed = await claimJobs(ctx.store, {
      kind: 'orders.push',
      limit: 1,
      owner: 'w1',
      leaseMs: 30_000,
      now: T0,
    });
    assert.equal(claimed[0]?.id, id);
    return id;
  }

  it(
    'store.db inside a completion record fails at once; no audit row, the job is not completed',
    FAST,
    async () => {
      const id = await runningJob();
      await assert.rejects(
        completeJobs(
          ctx.store,
          'w1',
          [{ id, record: async () => void (await appendAudit(ctx.store.db, audit('escaped'))) }],
          T0 + 1,
        ),
        ESCAPE,
      );
      assert.deepEqual(await auditKeys(), []);
      assert.equal((await getJob(ctx.store, id))?.state, 'running');
    },
  );

  it('a rolled-back completion leaves no audit row written through its handle', FAST, async () => {
    const id = await runningJob();
    await assert.rejects(
      completeJobs(
        ctx.store,
        'w1',
        [
          {
            id,
            record: async (db) => {
              await appendAudit(db, audit('rolled-back'));
              throw new Error('link write failed');
            },
          },
        ],
        T0 + 1,
      ),
      /link write failed/,
    );
    assert.deepEqual(await auditKeys(), []);
    assert.equal((await getJob(ctx.store, id))?.state, 'running');
    await completeJobs(
      ctx.store,
      'w1',
      [{ id, record: async (db) => void (await appendAudit(db, audit('kept'))) }],
      T0 + 2,
    );
    assert.deepEqual(await auditKeys(), ['kept']);
    assert.equal((await getJob(ctx.store, id))?.state, 'succeeded');
  });
});
