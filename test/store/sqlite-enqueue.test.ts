/**
 * The group commit's SQLite transaction on better-sqlite3 (`store/jobs/sqlite-enqueue.ts`) against
 * the general `enqueueJobs` (enqueue.ts): the same jobs, in the same order, on two fresh SQLite
 * stores, must give the same results and leave the same rows (new keys, a key repeated in the
 * batch, keyless jobs, a key held by a queued job, a key held by a running job). A failing insert
 * rolls the whole batch back and leaves the connection usable.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import type { EnqueueResult, NewJob } from '../../src/store/jobs/enqueue.js';
import { enqueueJobs } from '../../src/store/jobs/enqueue.js';
import { enqueueJobsSqlite } from '../../src/store/jobs/sqlite-enqueue.js';
import { withWriteTransaction } from '../../src/store/jobs/transaction.js';
import type { Store } from '../../src/store/open.js';
import { createTestStore } from '../helpers/dialects.js';

const NOW = Date.parse('2026-12-01T12:00:00Z');

const job = (key: string | null, payload: unknown, runAt = NOW): NewJob => ({
  kind: 'shipments.fetch',
  connection: 'main',
  payload,
  runAt,
  idempotencyKey: key,
});

async function rows(store: Store) {
  const { rows } = await sql<Record<string, unknown>>`
    SELECT id, kind, connection, payload, state, run_at, attempts, idempotency_key, group_key, key_slot,
           created_at, updated_at
    FROM jobs ORDER BY id`.execute(store.db);
  return rows;
}

describe('SQLite group-commit insert (better-sqlite3) matches enqueueJobs', () => {
  let general: { store: Store; cleanup: () => Promise<void> };
  let direct: { store: Store; cleanup: () => Promise<void> };
  before(async () => {
    general = await createTestStore('sqlite');
    direct = await createTestStore('sqlite');
  });
  after(async () => {
    await general.cleanup();
    await direct.cleanup();
  });

  const both = async (jobs: NewJob[], now = NOW): Promise<[EnqueueResult[], EnqueueResult[]]> => {
    const a = await withWriteTransaction(general.store, (db) =>
      enqueueJobs({ ...general.store, db }, jobs, now),
    );
    const b = await enqueueJobsSqlite(direct.store, jobs, now);
    return [a, b];
  };

  it('new keys, a key twice in one batch, keyless jobs', async () => {
    const [a, b] = await both([
      job('k1', { n: 1 }),
      job('k2', { n: 2 }, NOW + 5_000),
      job(null, { n: 3 }),
      job('k2', { n: 4 }, NOW + 1_000),
      job('k3', { n: 5 }),
      job(null, { n: 6 }),
    ]);
    assert.deepEqual(b, a);
    assert.deepEqual(
      b.map((r) => r.created),
      [true, true, true, false, true, true],
    );
    assert.equal(b[3]?.id, b[1]?.id);
    assert.deepEqual(await rows(direct.store), await rows(general.store));
    // The repeated key holds the later payload, due at the earlier time.
    const k2 = (await rows(direct.store)).find((r) => r.idempotency_key === 'k2');
    assert.equal(k2?.payload, JSON.stringify({ n: 4 }));
    assert.equal(Number(k2?.run_at), NOW + 1_000);
  });

  it('a key held by a queued job coalesces; one held by a running job gets a follow-up', async () => {
    for (const s of [general.store, direct.store])
      await sql`UPDATE jobs SET state = 'running' WHERE idempotency_key = 'k1'`.execute(s.db);
    const [a, b] = await both([job('k3', { n: 7 }), job('k1', { n: 8 }), job('k4', { n: 9 })], NOW + 10);
    assert.deepEqual(b, a);
    assert.deepEqual(
      b.map((r) => [r.created, r.followUp ?? false]),
      [
        [false, false],
        [true, true],
        [true, false],
      ],
    );
    assert.deepEqual(await rows(direct.store), await rows(general.store));
    const k1 = (await rows(direct.store)).filter((r) => r.idempotency_key === 'k1');
    assert.deepEqual(
      k1.map((r) => [r.state, Number(r.key_slot)]),
      [
        ['running', 0],
        ['queued', 1],
      ],
    );
  });

  it('a failing insert stores none of the batch and leaves the connection usable', async () => {
    const store = direct.store;
    await sql`CREATE TRIGGER refuse_poison BEFORE INSERT ON jobs WHEN NEW.payload LIKE '%poison%'
              BEGIN SELECT RAISE(ABORT, 'poison refused'); END`.execute(store.db);
    const before = (await rows(store)).length;
    await assert.rejects(
      enqueueJobsSqlite(
        store,
        [job('p1', { n: 10 }), job('p2', { poison: true }), job('p3', { n: 11 })],
        NOW,
      ),
      /poison refused/,
    );
    assert.equal((await rows(store)).length, before);
    assert.equal(store.sqlite?.inTransaction, false);
    const [ok] = await enqueueJobsSqlite(store, [job('p1', { n: 12 })], NOW);
    assert.equal(ok?.created, true);
    assert.equal((await rows(store)).length, before + 1);
    await sql`DROP TRIGGER refuse_poison`.execute(store.db);
  });
});
