/**
 * The webhook inbox (migration 0008): the receiver's durable write, and its move into `jobs`.
 *
 * - `appendToInbox` stores accepted events in one commit and returns their inbox ids. It touches
 *   one b-tree (the table; no secondary index), so the commit the 200 waits for is small: on
 *   SQLite ~1–2 pages instead of the ~8 (table, five indexes, `sqlite_sequence`) a job insert
 *   writes. SQLite: `BEGIN IMMEDIATE`, one prepared insert per event, `COMMIT`, synchronously on
 *   Kysely's one connection. PostgreSQL: one statement (atomic on its own, no BEGIN/COMMIT trips).
 * - `drainInbox` moves the oldest rows (at most `limit`) into `jobs` and deletes them in the same
 *   transaction, so an acknowledged event is in exactly one of the two tables at every commit: a
 *   crash before the move leaves it in the inbox (the next `run` moves it), after it in `jobs`.
 *   Rows move in id order with the rules of `enqueueJob` (enqueue.ts): a key no active job holds is
 *   inserted; one held by a queued job coalesces into it (the later payload, the earlier time); one
 *   held only by a running job becomes its follow-up. So a redelivery still makes no second job.
 *   SQLite: one `INSERT INTO jobs … SELECT … FROM webhook_inbox` moves every row that is the first of
 *   its key in the batch and whose key no active job holds (the common case: no JavaScript per
 *   row); the other rows go through `enqueueJob` on the same connection, in id order, after it. PostgreSQL:
 *   `DELETE … RETURNING` of rows locked `FOR UPDATE SKIP LOCKED` (two processes drain disjoint
 *   rows), then `enqueueJobs` in the same transaction.
 */
import type SqliteDatabase from 'better-sqlite3';
import { type Kysely, sql } from 'kysely';
import type { Database } from './database.js';
import { type EnqueueResult, enqueueJob, enqueueJobs, type NewJob } from './jobs/enqueue.js';
import { withWriteTransaction } from './jobs/transaction.js';
import type { Store } from './open.js';

export interface InboxEvent {
  /** The job kind it becomes. */
  kind: string;
  connection: string;
  idempotencyKey: string;
  payload: unknown;
  /** When it was received: the job's `run_at`. */
  receivedAt: number;
}

export interface DrainResult {
  /** Inbox rows moved (and deleted). */
  moved: number;
  /** Jobs inserted (the rest coalesced into jobs with their key). */
  created: number;
  /** The kinds moved (to wake the worker for). */
  kinds: string[];
}

interface InboxStatements {
  begin: SqliteDatabase.Statement;
  commit: SqliteDatabase.Statement;
  insert: SqliteDatabase.Statement;
  lastOfBatch: SqliteDatabase.Statement;
  kindsUpTo: SqliteDatabase.Statement;
  leftovers: SqliteDatabase.Statement;
  moveFree: SqliteDatabase.Statement;
  deleteUpTo: SqliteDatabase.Statement;
}

/**
 * The rows of a batch (`id <= @last`) that one INSERT … SELECT may move: the first row of its key in
 * the batch, when no active job holds the key (the partial index named, states as literals, as in
 * `enqueueJob`). Every other row of the batch is a leftover, moved by `enqueueJob` after it.
 */
const FIRST_OF_KEY = `i.id IN (SELECT min(id) FROM webhook_inbox WHERE id <= @last GROUP BY idempotency_key)`;
const KEY_HELD = `EXISTS (SELECT 1 FROM jobs INDEXED BY jobs_active_key_slot
                          WHERE idempotency_key = i.idempotency_key AND state IN ('queued', 'running'))`;

const prepared = new WeakMap<SqliteDatabase.Database, InboxStatements>();

function statements(raw: SqliteDatabase.Database): InboxStatements {
  let s = prepared.get(raw);
  if (!s) {
    s = {
      begin: raw.prepare('BEGIN IMMEDIATE'),
      commit: raw.prepare('COMMIT'),
      insert: raw.prepare(
        'INSERT INTO webhook_inbox (kind, connection, idempotency_key, payload, received_at) VALUES (?, ?, ?, ?, ?)',
      ),
      lastOfBatch: raw
        .prepare('SELECT max(id) FROM (SELECT id FROM webhook_inbox ORDER BY id LIMIT ?)')
        .pluck(),
      kindsUpTo: raw.prepare('SELECT DISTINCT kind FROM webhook_inbox WHERE id <= ?').pluck(),
      leftovers: raw
        .prepare(
          `SELECT id, kind, connection, idempotency_key, payload, received_at FROM webhook_inbox i
           WHERE i.id <= @last AND (NOT ${FIRST_OF_KEY} OR ${KEY_HELD}) ORDER BY i.id`,
        )
        .raw(),
      // No ON CONFLICT: a conflict here would be a bug, and must fail the drain (rows kept), not
      // skip a row.
      moveFree: raw.prepare(
        `INSERT INTO jobs (kind, connection, payload, state, run_at, attempts, idempotency_key, group_key,
                           created_at, updated_at, key_slot)
         SELECT kind, connection, payload, 'queued', received_at, 0, idempotency_key, NULL, @now, @now, 0
         FROM webhook_inbox i
         WHERE i.id <= @last AND ${FIRST_OF_KEY} AND NOT ${KEY_HELD}
         ORDER BY i.id`,
      ),
      deleteUpTo: raw.prepare('DELETE FROM webhook_inbox WHERE id <= ?'),
    };
    prepared.set(raw, s);
  }
  return s;
}

/** Stores `events` in one commit; their inbox ids, in order. Throws (nothing stored) on failure. */
export async function appendToInbox(store: Store, events: readonly InboxEvent[]): Promise<number[]> {
  if (events.length === 0) return [];
  const raw = store.sqlite;
  if (raw) {
    const s = statements(raw);
    return store.db.connection().execute(async () => {
      s.begin.run();
      try {
        const ids: number[] = [];
        for (const e of events) {
          const info = s.insert.run(
            e.kind,
            e.connection,
            e.idempotencyKey,
            JSON.stringify(e.payload ?? {}),
            e.receivedAt,
          );
          ids.push(Number(info.lastInsertRowid));
        }
        s.commit.run();
        return ids;
      } catch (error) {
        if (raw.inTransaction) raw.exec('ROLLBACK');
        throw error;
      }
    });
  }
  if (store.dialect === 'sqlite') {
    // A SQLite store without its handle (not opened by openStore): the Kysely way.
    const rows = await withWriteTransaction(store, (db) =>
      db.insertInto('webhook_inbox').values(events.map(toRow)).returning('id').execute(),
    );
    return rows.map((r) => Number(r.id));
  }
  // One statement: the ids are drawn in a CTE (evaluated once) and the rows inserted with them, so
  // each id is matched to its event by position without trusting the order of RETURNING.
  const { rows } = await sql<{ id: string | number; n: string | number }>`
    WITH input AS (
      SELECT * FROM unnest(
        ${events.map((e) => e.kind)}::text[], ${events.map((e) => e.connection)}::text[],
        ${events.map((e) => e.idempotencyKey)}::text[],
        ${events.map((e) => JSON.stringify(e.payload ?? {}))}::text[],
        ${events.map((e) => e.receivedAt)}::bigint[])
        WITH ORDINALITY AS t(kind, connection, idempotency_key, payload, received_at, n)),
    numbered AS MATERIALIZED (
      SELECT nextval(pg_get_serial_sequence('webhook_inbox', 'id')) AS id, input.* FROM input),
    inserted AS (
      INSERT INTO webhook_inbox (id, kind, connection, idempotency_key, payload, received_at)
      SELECT id, kind, connection, idempotency_key, payload, received_at FROM numbered)
    SELECT id, n FROM numbered`.execute(store.db);
  const ids = new Array<number>(events.length);
  for (const r of rows) ids[Number(r.n) - 1] = Number(r.id);
  return ids;
}

const toRow = (e: InboxEvent) => ({
  kind: e.kind,
  connection: e.connection,
  idempotency_key: e.idempotencyKey,
  payload: JSON.stringify(e.payload ?? {}),
  received_at: e.receivedAt,
});

type Row = [id: number, kind: string, connection: string, key: string, payload: string, receivedAt: number];

const toJob = (r: Row): NewJob => ({
  kind: r[1],
  connection: r[2],
  idempotencyKey: r[3],
  payload: JSON.parse(r[4]),
  runAt: Number(r[5]),
});

/**
 * Moves the oldest inbox rows (at most `limit`) into `jobs` in one transaction and deletes them.
 * `moved` 0: the inbox was empty (or, on PostgreSQL, every row is being moved by another process).
 */
export async function drainInbox(
  store: Store,
  options: { limit: number; now: number },
): Promise<DrainResult> {
  const { limit, now } = options;
  const raw = store.sqlite;
  if (raw) {
    const s = statements(raw);
    return store.db.connection().execute(async (db: Kysely<Database>) => {
      s.begin.run();
      try {
        const last = s.lastOfBatch.get(limit) as number | bigint | null;
        if (last === null) {
          s.commit.run();
          return { moved: 0, created: 0, kinds: [] };
        }
        const kinds = s.kindsUpTo.all(last) as string[];
        // Leftovers first (what they are depends on the jobs before the move), then the move, then
        // the leftovers in their order: each coalesces into its key's job or follows its running one.
        const leftovers = s.leftovers.all({ last }) as Row[];
        let created = s.moveFree.run({ last, now }).changes;
        for (const r of leftovers) if ((await enqueueJob({ ...store, db }, toJob(r), now)).created) created++;
        const moved = s.deleteUpTo.run(last).changes;
        s.commit.run();
        return { moved, created, kinds };
      } catch (error) {
        if (raw.inTransaction) raw.exec('ROLLBACK');
        throw error;
      }
    });
  }
  return withWriteTransaction(store, async (db) => {
    const locked = store.dialect === 'postgres' ? sql`FOR UPDATE SKIP LOCKED` : sql``;
    const { rows } = await sql<{
      id: string | number;
      kind: string;
      connection: string;
      idempotency_key: string;
      payload: string;
      received_at: string | number;
    }>`
      DELETE FROM webhook_inbox WHERE id IN (
        SELECT id FROM webhook_inbox ORDER BY id LIMIT ${limit} ${locked})
      RETURNING id, kind, connection, idempotency_key, payload, received_at`.execute(db);
    const ordered = rows
      .map(
        (r): Row => [Number(r.id), r.kind, r.connection, r.idempotency_key, r.payload, Number(r.received_at)],
      )
      .sort((a, b) => a[0] - b[0]);
    const results: EnqueueResult[] = ordered.length
      ? await enqueueJobs({ ...store, db }, ordered.map(toJob), now)
      : [];
    return {
      moved: ordered.length,
      created: results.filter((r) => r.created).length,
      kinds: [...new Set(ordered.map((r) => r[1]))],
    };
  });
}

/** Rows waiting in the inbox. */
export async function inboxSize(store: Store): Promise<number> {
  const row = await store.db
    .selectFrom('webhook_inbox')
    .select((eb) => eb.fn.countAll().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
