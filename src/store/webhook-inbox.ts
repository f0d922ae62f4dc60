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
 * - A row that cannot become a job (one our receiver would not write, or one the store refuses) is
 *   kept as a dead job with an audit row, and the other rows still move (`drainInbox`, `isolate`);
 *   a store that cannot run the drain now (busy, locked, connection lost…) moves nothing and
 *   dead-letters nothing: the caller tries again (`isRowRefusal` tells the two apart).
 */
import type SqliteDatabase from 'better-sqlite3';
import { type Kysely, sql } from 'kysely';
import { appendAudit } from './audit.js';
import type { Database } from './database.js';
import { type EnqueueResult, enqueueJob, enqueueJobs, type NewJob } from './jobs/enqueue.js';
import { clipError } from './jobs/job.js';
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
  /** Inbox rows taken out of the inbox (and deleted): moved into jobs, or dead-lettered. */
  moved: number;
  /** Jobs inserted (the rest coalesced into jobs with their key). */
  created: number;
  /** The kinds moved (to wake the worker for). */
  kinds: string[];
  /** Rows that could not become jobs, each kept as a dead job with an audit row (`deadLetter`). */
  deadLetters: DeadLetter[];
}

export interface DeadLetter {
  inboxId: number;
  /** The dead job that holds the row. */
  jobId: number;
  connection: string;
  kind: string;
  /** Why, as the job's last error and the audit row say. */
  error: string;
}

interface InboxStatements {
  begin: SqliteDatabase.Statement;
  commit: SqliteDatabase.Statement;
  insert: SqliteDatabase.Statement;
  bounds: SqliteDatabase.Statement;
  kinds: SqliteDatabase.Statement;
  leftovers: SqliteDatabase.Statement;
  moveFree: SqliteDatabase.Statement;
  invalid: SqliteDatabase.Statement;
  deleteRange: SqliteDatabase.Statement;
}

/** The rows of a range (`@first <= id <= @last`). */
const IN_RANGE = 'i.id >= @first AND i.id <= @last';
/**
 * The rows of the range that one INSERT … SELECT may move: the first row of its key in the range,
 * when no active job holds the key (the partial index named, states as literals, as in
 * `enqueueJob`). Every other row of the range is a leftover, moved by `enqueueJob` after it.
 */
const FIRST_OF_KEY = `i.id IN (SELECT min(id) FROM webhook_inbox WHERE id >= @first AND id <= @last GROUP BY idempotency_key)`;
const KEY_HELD = `EXISTS (SELECT 1 FROM jobs INDEXED BY jobs_active_key_slot
                          WHERE idempotency_key = i.idempotency_key AND state IN ('queued', 'running'))`;
/**
 * What a row needs to become a job (`rowProblem` says the same in words): non-empty texts, an
 * integer time, a JSON object. Last in each WHERE, so SQLite evaluates it only for the rows the
 * other terms keep: `json_valid` is the one cost here (~0.35 µs a row, against ~6 for the move).
 */
const VALID = `typeof(i.kind) = 'text' AND i.kind <> '' AND typeof(i.connection) = 'text' AND i.connection <> ''
  AND typeof(i.idempotency_key) = 'text' AND i.idempotency_key <> '' AND typeof(i.received_at) = 'integer'
  AND typeof(i.payload) = 'text' AND substr(i.payload, 1, 1) = '{' AND json_valid(i.payload)`;

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
      // The oldest `@limit` rows of the range: the highest id and how many.
      bounds: raw
        .prepare(
          `SELECT max(id), count(*) FROM (SELECT id FROM webhook_inbox i WHERE ${IN_RANGE} ORDER BY id LIMIT @limit)`,
        )
        .raw(),
      kinds: raw.prepare(`SELECT DISTINCT kind FROM webhook_inbox i WHERE ${IN_RANGE}`).pluck(),
      leftovers: raw
        .prepare(
          `SELECT id, kind, connection, idempotency_key, payload, received_at FROM webhook_inbox i
           WHERE ${IN_RANGE} AND (NOT ${FIRST_OF_KEY} OR ${KEY_HELD}) AND ${VALID} ORDER BY i.id`,
        )
        .raw(),
      // No ON CONFLICT: a conflict here would be a bug, and must fail the drain (then the range is
      // split until the row is found: `isolate`), not skip a row.
      moveFree: raw.prepare(
        `INSERT INTO jobs (kind, connection, payload, state, run_at, attempts, idempotency_key, group_key,
                           created_at, updated_at, key_slot)
         SELECT kind, connection, payload, 'queued', received_at, 0, idempotency_key, NULL, @now, @now, 0
         FROM webhook_inbox i
         WHERE ${IN_RANGE} AND ${FIRST_OF_KEY} AND NOT ${KEY_HELD} AND ${VALID}
         ORDER BY i.id`,
      ),
      // Only read when the two above left rows out (rows no version of ours writes).
      invalid: raw.prepare(
        `SELECT id, kind, connection, idempotency_key, payload, received_at, typeof(received_at) AS received_type
         FROM webhook_inbox i WHERE ${IN_RANGE} AND NOT (${VALID}) ORDER BY i.id`,
      ),
      deleteRange: raw.prepare(`DELETE FROM webhook_inbox AS i WHERE ${IN_RANGE}`),
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

/** A row as stored: on SQLite any column may hold any type (a row we did not write). */
interface StoredRow {
  id: number;
  kind: unknown;
  connection: unknown;
  key: unknown;
  payload: unknown;
  receivedAt: unknown;
  /** SQLite's `typeof(received_at)`, when read there. */
  receivedType?: string;
}

const MIN_ID = Number.MIN_SAFE_INTEGER;
const MAX_ID = Number.MAX_SAFE_INTEGER;

/**
 * Why a stored row cannot become a job, or undefined when it can (the same rule as `VALID` in SQL):
 * kind, connection and key non-empty texts, the time an integer, the payload a JSON object. Our
 * receiver writes no other row; these come from a hand-made insert, a damaged file, or a version
 * that wrote the inbox differently. A payload of the wrong shape is not refused here: it becomes a
 * job, and the handler dead-letters it with the shape it expected (`parseFetchPayload`).
 */
export function rowProblem(row: StoredRow): string | undefined {
  const problems: string[] = [];
  const text = (value: unknown, name: string) => {
    if (typeof value !== 'string' || value === '') problems.push(`${name} is ${describe(value)}, not a text`);
  };
  text(row.kind, 'kind');
  text(row.connection, 'connection');
  text(row.key, 'idempotency_key');
  const t = row.receivedAt;
  const integer =
    (row.receivedType === undefined || row.receivedType === 'integer') &&
    ((typeof t === 'number' && Number.isSafeInteger(t)) ||
      typeof t === 'bigint' ||
      /^-?\d{1,16}$/.test(String(t)));
  if (!integer) problems.push(`received_at is ${describe(t)}, not a time in epoch milliseconds`);
  if (typeof row.payload !== 'string') problems.push(`payload is ${describe(row.payload)}, not JSON text`);
  else {
    let parsed: unknown;
    try {
      parsed = JSON.parse(row.payload);
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed) || row.payload[0] !== '{')
        problems.push(`payload is not a JSON object: ${describe(row.payload)}`);
    } catch (error) {
      problems.push(`payload is not JSON (${(error as Error).message}): ${describe(row.payload)}`);
    }
  }
  return problems.length > 0 ? problems.join('; ') : undefined;
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (typeof value === 'string')
    return value === '' ? 'empty' : JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
  if (Buffer.isBuffer(value)) return `a ${value.length}-byte blob`;
  return `${typeof value} ${String(value)}`;
}

/**
 * True when `error` is the store refusing the data of the statement, not the store being unable to
 * run it now: the only errors after which the drain looks for one row to dead-letter (`isolate`).
 * SQLite: a constraint (NOT NULL, CHECK, UNIQUE, a trigger's RAISE), a type mismatch, a value too
 * big. PostgreSQL: class 22 (data exception), class 23 (integrity constraint), P0001 (a trigger's
 * RAISE EXCEPTION), 54000 (a value over a limit, e.g. an index row too large). Everything else
 * (SQLITE_BUSY/LOCKED/IOERR/FULL, a lost connection, a serialization failure or deadlock, a
 * timeout, a statement cancelled, a bug) is not proof that a row is at fault: the batch is tried
 * again later, whole, and nothing is dead-lettered.
 */
export function isRowRefusal(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return false;
  if (code.startsWith('SQLITE_')) {
    return code.startsWith('SQLITE_CONSTRAINT') || code === 'SQLITE_MISMATCH' || code === 'SQLITE_TOOBIG';
  }
  return /^(22|23)[0-9A-Z]{3}$/.test(code) || code === 'P0001' || code === '54000';
}

/**
 * Moves the oldest inbox rows (at most `limit`) into `jobs` in one transaction and deletes them.
 * `moved` 0: the inbox was empty (or, on PostgreSQL, every row is being moved by another process).
 *
 * A row that cannot become a job does not hold back the others:
 * - a row that breaks the rule of `rowProblem` (not one our receiver writes) is kept as a dead job
 *   in the same transaction as the move, with an audit row (`deadLetter`);
 * - when the store refuses the batch's jobs (`isRowRefusal`), the batch is split in halves, each
 *   moved in its own transaction, and so on down to the row that fails alone, which is kept as a
 *   dead job with the store's error (about 2·log2(limit) transactions for one such row);
 * - any other error is thrown with nothing dead-lettered (the rows moved before it stay moved): the
 *   caller tries again later (`inbox-drainer.ts`).
 */
export async function drainInbox(
  store: Store,
  options: { limit: number; now: number },
): Promise<DrainResult> {
  const { limit, now } = options;
  try {
    return await drainRange(store, MIN_ID, MAX_ID, limit, now);
  } catch (error) {
    if (!isRowRefusal(error)) throw error;
  }
  return isolate(store, limit, now);
}

/** The batch the store refused, split until each refused row is alone, then dead-lettered. */
async function isolate(store: Store, limit: number, now: number): Promise<DrainResult> {
  const rows = await store.db.selectFrom('webhook_inbox').select('id').orderBy('id').limit(limit).execute();
  const ids = rows.map((r) => Number(r.id));
  const total: DrainResult = { moved: 0, created: 0, kinds: [], deadLetters: [] };
  const add = (r: DrainResult) => {
    total.moved += r.moved;
    total.created += r.created;
    for (const k of r.kinds) if (!total.kinds.includes(k)) total.kinds.push(k);
    total.deadLetters.push(...r.deadLetters);
  };
  // Oldest first, so the rows of one key still move in id order.
  const split = async (lo: number, hi: number): Promise<void> => {
    try {
      add(await drainRange(store, ids[lo]!, ids[hi]!, limit, now));
      return;
    } catch (error) {
      if (!isRowRefusal(error)) throw error;
      if (lo === hi) {
        try {
          const dead = await deadLetterRow(store, ids[lo]!, error, now);
          if (dead) add({ moved: 1, created: 0, kinds: [], deadLetters: [dead] });
        } catch (refused) {
          // Kept in the inbox; the rows after it still move, then the drain reports it.
          if (!(refused instanceof DeadLetterRefusedError)) throw refused;
          stuck ??= refused;
        }
        return;
      }
    }
    const mid = (lo + hi) >> 1;
    await split(lo, mid);
    await split(mid + 1, hi);
  };
  let stuck: DeadLetterRefusedError | undefined;
  if (ids.length > 0) await split(0, ids.length - 1);
  if (stuck) throw stuck;
  return total;
}

/** Moves the oldest `limit` rows with `first <= id <= last` in one transaction. */
async function drainRange(
  store: Store,
  first: number,
  last: number,
  limit: number,
  now: number,
): Promise<DrainResult> {
  const raw = store.sqlite;
  if (raw) {
    const s = statements(raw);
    return store.db.connection().execute(async (db: Kysely<Database>) => {
      s.begin.run();
      try {
        const [top, count] = s.bounds.get({ first, last, limit }) as [number | bigint | null, number];
        if (top === null) {
          s.commit.run();
          return { moved: 0, created: 0, kinds: [], deadLetters: [] };
        }
        const range = { first, last: Number(top) };
        const kinds = (s.kinds.all(range) as unknown[]).filter((k): k is string => typeof k === 'string');
        // Leftovers first (what they are depends on the jobs before the move), then the move, then
        // the leftovers in their order: each coalesces into its key's job or follows its running one.
        const leftovers = s.leftovers.all(range) as Row[];
        const free = s.moveFree.run({ ...range, now }).changes;
        let created = free;
        for (const r of leftovers) if ((await enqueueJob({ ...store, db }, toJob(r), now)).created) created++;
        const deadLetters: DeadLetter[] = [];
        // Rows neither statement took break the rule of VALID: kept as dead jobs.
        if (free + leftovers.length < Number(count)) {
          const invalid = s.invalid.all(range) as Array<{
            id: number;
            kind: unknown;
            connection: unknown;
            idempotency_key: unknown;
            payload: unknown;
            received_at: unknown;
            received_type: string;
          }>;
          for (const r of invalid) {
            const row: StoredRow = {
              id: Number(r.id),
              kind: r.kind,
              connection: r.connection,
              key: r.idempotency_key,
              payload: r.payload,
              receivedAt: r.received_at,
              receivedType: r.received_type,
            };
            const problem = rowProblem(row) ?? `received_at is stored as ${r.received_type}`;
            deadLetters.push(
              await deadLetter(db, row, invalidMessage(row.id, problem), 'wrapped', 'invalid', now),
            );
          }
        }
        const moved = s.deleteRange.run(range).changes;
        s.commit.run();
        return { moved, created, kinds, deadLetters };
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
        SELECT id FROM webhook_inbox WHERE id >= ${first} AND id <= ${last} ORDER BY id LIMIT ${limit} ${locked})
      RETURNING id, kind, connection, idempotency_key, payload, received_at`.execute(db);
    const ordered = rows
      .map(
        (r): Row => [Number(r.id), r.kind, r.connection, r.idempotency_key, r.payload, Number(r.received_at)],
      )
      .sort((a, b) => a[0] - b[0]);
    const good: Row[] = [];
    const deadLetters: DeadLetter[] = [];
    for (const r of ordered) {
      const row: StoredRow = {
        id: r[0],
        kind: r[1],
        connection: r[2],
        key: r[3],
        payload: r[4],
        receivedAt: r[5],
      };
      const problem = rowProblem(row);
      if (problem)
        deadLetters.push(
          await deadLetter(db, row, invalidMessage(row.id, problem), 'wrapped', 'invalid', now),
        );
      else good.push(r);
    }
    const results: EnqueueResult[] = good.length
      ? await enqueueJobs({ ...store, db }, good.map(toJob), now)
      : [];
    return {
      moved: ordered.length,
      created: results.filter((r) => r.created).length,
      kinds: [...new Set(good.map((r) => r[1]))],
      deadLetters,
    };
  });
}

const invalidMessage = (id: number, problem: string) =>
  `webhook inbox row ${id} cannot become a job: ${problem}`;

const refusedMessage = (id: number, error: unknown) => {
  const e = error as { code?: unknown; message?: unknown };
  return `the store refused the job of webhook inbox row ${id} (${String(e?.code)}: ${String(e?.message ?? error)})`;
};

/** The dead-lettering of rows the store refused (or could not even keep as they were) failed too. */
export class DeadLetterRefusedError extends Error {
  constructor(
    message: string,
    readonly inboxId: number,
  ) {
    super(message);
    this.name = 'DeadLetterRefusedError';
  }
}

/**
 * Takes row `id` out of the inbox and keeps it as a dead job (the store refused its job: `refusal`),
 * in its own transaction. Undefined when the row is gone (another process moved it). First the job
 * as it would have been, dead (so `replay` makes it the real job once the cause is fixed); if the
 * store refuses that too, a dead job with the row in its payload; if that is refused as well, a
 * DeadLetterRefusedError (not a row refusal: the drain tries again later, the row stays).
 */
async function deadLetterRow(
  store: Store,
  id: number,
  refusal: unknown,
  now: number,
): Promise<DeadLetter | undefined> {
  let lastError: unknown = refusal;
  for (const attempt of [1, 2]) {
    try {
      return await withWriteTransaction(store, async (db) => {
        const locked = store.dialect === 'postgres' ? sql`FOR UPDATE SKIP LOCKED` : sql``;
        const { rows } = await sql<{
          id: string | number;
          kind: unknown;
          connection: unknown;
          idempotency_key: unknown;
          payload: unknown;
          received_at: unknown;
        }>`
          DELETE FROM webhook_inbox WHERE id IN (SELECT id FROM webhook_inbox WHERE id = ${id} ${locked})
          RETURNING id, kind, connection, idempotency_key, payload, received_at`.execute(db);
        const r = rows[0];
        if (!r) return undefined;
        const row: StoredRow = {
          id,
          kind: r.kind,
          connection: r.connection,
          key: r.idempotency_key,
          payload: r.payload,
          receivedAt: r.received_at,
        };
        const problem = rowProblem(row);
        const message = problem ? invalidMessage(id, problem) : refusedMessage(id, refusal);
        const form = attempt === 2 ? 'bare' : problem ? 'wrapped' : 'as-is';
        return deadLetter(db, row, message, form, problem ? 'invalid' : 'refused', now);
      });
    } catch (error) {
      if (!isRowRefusal(error)) throw error;
      lastError = error;
    }
  }
  throw new DeadLetterRefusedError(
    `webhook inbox row ${id}: the store refused its job (${refusedMessage(id, refusal)}) and its dead-letter too (${String((lastError as Error)?.message ?? lastError)}); it stays in the inbox`,
    id,
  );
}

/**
 * Keeps a row that cannot become a job as a dead job, with an audit row (`flow` webhooks, `action`
 * dead-letter), through `db` (the caller's transaction, which also deletes the row). `form`:
 * - `as-is` (the store refused its job): the job as it would have been, dead, its last error the
 *   store's; `replay` makes it the real job once the cause is gone;
 * - `wrapped` (a row that breaks `rowProblem`): the row as stored, in the payload `{inboxRow: {…}}`
 *   of a dead job of its kind (`webhook.inbox` when the kind is no text), connection (`unknown`
 *   likewise) and key;
 * - `bare`: `wrapped` without the key, when the store refused the other forms.
 * Dead jobs are Problems (dashboard, `/api/problems`, `jobs list --state dead`).
 */
async function deadLetter(
  db: Kysely<Database>,
  row: StoredRow,
  error: string,
  form: 'as-is' | 'wrapped' | 'bare',
  cause: 'invalid' | 'refused',
  now: number,
): Promise<DeadLetter> {
  const textOr = (v: unknown, fallback: string) => (typeof v === 'string' && v !== '' ? v : fallback);
  const kind = textOr(row.kind, 'webhook.inbox');
  const connection = textOr(row.connection, 'unknown');
  const key = form !== 'bare' && typeof row.key === 'string' && row.key !== '' ? row.key : null;
  const asIs = form === 'as-is';
  const stored = (v: unknown) =>
    Buffer.isBuffer(v) ? `blob:${v.toString('base64')}` : v === null ? null : String(v);
  const payload = asIs
    ? String(row.payload)
    : JSON.stringify({
        inboxRow: {
          id: row.id,
          kind: stored(row.kind),
          connection: stored(row.connection),
          idempotencyKey: stored(row.key),
          receivedAt: stored(row.receivedAt),
          payload: stored(row.payload),
        },
      });
  const text = clipError(error);
  const inserted = await db
    .insertInto('jobs')
    .values({
      kind,
      connection,
      payload,
      state: 'dead',
      run_at: asIs ? Number(row.receivedAt) : now,
      attempts: 0,
      idempotency_key: key,
      group_key: null,
      last_error: text,
      created_at: now,
      updated_at: now,
      finished_at: now,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  const jobId = Number(inserted.id);
  await appendAudit(db, {
    connection,
    flow: 'webhooks',
    entityType: 'webhook',
    entityKey: (key ?? `inbox:${row.id}`).slice(0, 300),
    action: 'dead-letter',
    outcome: 'error',
    jobId,
    detail: { inboxId: row.id, kind, receivedAt: stored(row.receivedAt), cause, form },
    error: text,
    at: now,
  });
  return { inboxId: row.id, jobId, connection, kind, error: text };
}

/** Rows waiting in the inbox. */
export async function inboxSize(store: Store): Promise<number> {
  const row = await store.db
    .selectFrom('webhook_inbox')
    .select((eb) => eb.fn.countAll().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
