/**
 * The group commit's transaction on SQLite, straight on better-sqlite3: `BEGIN IMMEDIATE`, one
 * prepared insert per job, `COMMIT`, all in one synchronous run while Kysely's one connection is
 * held (so no other query of this process can interleave). Kysely compiled every statement of every
 * batch again (its query tree, ids, frozen nodes): a ninth of the webhook receiver's time flat out
 * (issue #11's profile), more than the statements it ran.
 *
 * Same rules as `enqueueJob`/`enqueueJobs` (enqueue.ts): a keyed job whose key no active job holds
 * is inserted into slot 0 by one statement (`INSERT … SELECT … WHERE NOT EXISTS`, the look-up on the
 * partial index `jobs_active_key_slot`); a key that is held (a redelivery of a queued event, a
 * running job, or the same key earlier in the batch) goes through `enqueueJob` on the same
 * connection, inside the same transaction, in its turn (a later duplicate coalesces into the first,
 * so the stored payload is the last one's; ids follow the input order, as with `enqueueJobs`). `BEGIN IMMEDIATE` holds
 * SQLite's write lock from the start, so what the look-up saw cannot change before the insert.
 */
import type SqliteDatabase from 'better-sqlite3';
import type { Kysely } from 'kysely';
import type { Database } from '../database.js';
import type { Store } from '../open.js';
import { type EnqueueResult, enqueueJob, type NewJob } from './enqueue.js';

interface Statements {
  begin: SqliteDatabase.Statement;
  commit: SqliteDatabase.Statement;
  rollback: SqliteDatabase.Statement;
  insertIfIdle: SqliteDatabase.Statement;
  insertKeyless: SqliteDatabase.Statement;
}

const prepared = new WeakMap<SqliteDatabase.Database, Statements>();

function statements(raw: SqliteDatabase.Database): Statements {
  let s = prepared.get(raw);
  if (!s) {
    const columns = `(kind, connection, payload, state, run_at, attempts, idempotency_key, group_key,
                      created_at, updated_at, key_slot)`;
    s = {
      begin: raw.prepare('BEGIN IMMEDIATE'),
      commit: raw.prepare('COMMIT'),
      rollback: raw.prepare('ROLLBACK'),
      // `state IN (…)` as literals and the index named: see `isActive` and `activeRows` in enqueue.ts.
      insertIfIdle: raw
        .prepare(
          `INSERT INTO jobs ${columns}
           SELECT ?, ?, ?, 'queued', ?, 0, ?, ?, ?, ?, 0
           WHERE NOT EXISTS (SELECT 1 FROM jobs INDEXED BY jobs_active_key_slot
                             WHERE idempotency_key = ? AND state IN ('queued', 'running'))
           ON CONFLICT DO NOTHING
           RETURNING id`,
        )
        .pluck(),
      insertKeyless: raw
        .prepare(
          `INSERT INTO jobs ${columns} VALUES (?, ?, ?, 'queued', ?, 0, NULL, ?, ?, ?, 0) RETURNING id`,
        )
        .pluck(),
    };
    prepared.set(raw, s);
  }
  return s;
}

/**
 * Stores `jobs` in one transaction of the SQLite store and returns one result per job, in order.
 * The store must have been opened by `openStore` (`store.sqlite` set). Throws (and rolls back) if
 * any insert fails: then none of them is stored.
 */
export async function enqueueJobsSqlite(
  store: Store,
  jobs: readonly NewJob[],
  now: number,
): Promise<EnqueueResult[]> {
  const raw = store.sqlite;
  if (!raw) throw new Error('enqueueJobsSqlite needs a SQLite store opened by openStore');
  const s = statements(raw);
  return store.db.connection().execute(async (db: Kysely<Database>) => {
    s.begin.run();
    try {
      const results: EnqueueResult[] = [];
      for (const job of jobs) {
        const payload = JSON.stringify(job.payload ?? {});
        const runAt = job.runAt ?? now;
        const group = job.groupKey ?? null;
        const key = job.idempotencyKey ?? null;
        if (key === null) {
          const id = s.insertKeyless.get(job.kind, job.connection, payload, runAt, group, now, now);
          results.push({ id: Number(id), created: true });
          continue;
        }
        const id = s.insertIfIdle.get(job.kind, job.connection, payload, runAt, key, group, now, now, key) as
          | number
          | bigint
          | undefined;
        // A key already held: the general rules, on this connection, in this transaction.
        results.push(
          id !== undefined ? { id: Number(id), created: true } : await enqueueJob({ ...store, db }, job, now),
        );
      }
      s.commit.run();
      return results;
    } catch (error) {
      if (raw.inTransaction) s.rollback.run();
      throw error;
    }
  });
}
