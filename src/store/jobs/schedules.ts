/**
 * Schedules: one row per (connection, kind) with an interval and the next due time. Enqueueing the
 * due ones and moving their next due time happen in one transaction (rows locked with
 * `FOR UPDATE SKIP LOCKED` on PostgreSQL, an immediate transaction on SQLite), so a restart neither
 * skips nor repeats a poll, and two processes never enqueue the same poll twice. The job itself is a
 * singleton through its idempotency key (`enqueue.ts`): a due schedule whose poll is still queued
 * (e.g. waiting for a retry) coalesces into it and makes it due now; one whose poll is running gets
 * one follow-up poll that runs after it.
 */
import type { Kysely, Selectable } from 'kysely';
import type { Database, SchedulesTable } from '../database.js';
import type { Store } from '../open.js';
import { enqueueJob } from './enqueue.js';
import { withWriteTransaction } from './transaction.js';

export interface ScheduleSpec {
  connection: string;
  kind: string;
  intervalMs: number;
}

export type ScheduleRow = Selectable<SchedulesTable>;

/** The idempotency key of a schedule's job: at most one active poll per connection and kind. */
export function scheduleJobKey(connection: string, kind: string): string {
  return `schedule:${kind}:${connection}`;
}

/**
 * Makes the table match `specs` for the connections this process serves (`served`, the names in
 * its configuration): new schedules are due at `firstRunAt(spec)`, a changed interval keeps the
 * earlier of the stored due time and `now + interval`, and schedules of served connections that are
 * not in `specs` (a poll set to 0) are removed. Schedules of other connections are never touched:
 * another process may serve them.
 *
 * Safe for many processes at once: a new row is inserted with `ON CONFLICT DO NOTHING` (the
 * process that loses the race finds it there), rows are written in one order (connection, kind) so
 * two transactions cannot deadlock over them, and a transaction that PostgreSQL still aborts as a
 * deadlock or serialization failure (processes with different configurations) is run again.
 */
export async function syncScheduleRows(
  store: Store,
  specs: ScheduleSpec[],
  now: number,
  firstRunAt: (spec: ScheduleSpec) => number,
  served: string[] = [...new Set(specs.map((s) => s.connection))],
): Promise<{ added: number; changed: number; removed: number }> {
  const ordered = [...specs].sort(
    (a, b) => a.connection.localeCompare(b.connection) || a.kind.localeCompare(b.kind),
  );
  const servedSet = [...new Set([...served, ...specs.map((s) => s.connection)])];
  for (let tryNo = 1; ; tryNo++) {
    try {
      return await withWriteTransaction(store, (db) => syncOnce(db, ordered, servedSet, now, firstRunAt));
    } catch (err) {
      if (tryNo >= 5 || !isTransientConflict(err)) throw err;
    }
  }
}

async function syncOnce(
  db: Kysely<Database>,
  specs: ScheduleSpec[],
  served: string[],
  now: number,
  firstRunAt: (spec: ScheduleSpec) => number,
): Promise<{ added: number; changed: number; removed: number }> {
  if (served.length === 0) return { added: 0, changed: 0, removed: 0 };
  let added = 0;
  let changed = 0;
  for (const spec of specs) {
    const inserted = await db
      .insertInto('schedules')
      .values({
        connection: spec.connection,
        kind: spec.kind,
        interval_ms: spec.intervalMs,
        next_run_at: firstRunAt(spec),
        last_enqueued_at: null,
        last_job_id: null,
        updated_at: now,
      })
      .onConflict((oc) => oc.columns(['connection', 'kind']).doNothing())
      .returning('kind')
      .executeTakeFirst();
    if (inserted) {
      added++;
      continue;
    }
    const updated = await db
      .updateTable('schedules')
      .set((eb) => ({
        interval_ms: spec.intervalMs,
        next_run_at: eb
          .case()
          .when('next_run_at', '>', now + spec.intervalMs)
          .then(eb.val(now + spec.intervalMs))
          .else(eb.ref('next_run_at'))
          .end(),
        updated_at: now,
      }))
      .where('connection', '=', spec.connection)
      .where('kind', '=', spec.kind)
      .where('interval_ms', '<>', spec.intervalMs)
      .executeTakeFirst();
    if (Number(updated.numUpdatedRows) > 0) changed++;
  }
  const wanted = new Set(specs.map((s) => `${s.connection}\u0000${s.kind}`));
  const existing = await db
    .selectFrom('schedules')
    .select(['connection', 'kind'])
    .where('connection', 'in', served)
    .orderBy('connection')
    .orderBy('kind')
    .execute();
  let removed = 0;
  for (const row of existing) {
    if (wanted.has(`${row.connection}\u0000${row.kind}`)) continue;
    const gone = await db
      .deleteFrom('schedules')
      .where('connection', '=', row.connection)
      .where('kind', '=', row.kind)
      .executeTakeFirst();
    removed += Number(gone.numDeletedRows);
  }
  return { added, changed, removed };
}

/** PostgreSQL deadlock (40P01) or serialization failure (40001): the transaction may simply be run again. */
function isTransientConflict(err: unknown): boolean {
  const code = (err as { code?: string } | undefined)?.code;
  return code === '40P01' || code === '40001';
}

export interface EnqueuedPoll {
  connection: string;
  kind: string;
  jobId: number;
  /** False when the previous poll was still queued: it was made due now instead of adding one. */
  created: boolean;
  nextRunAt: number;
}

/** Enqueues a job for every due schedule and moves each one's next due time to `nextRunAt(row)`. */
export async function enqueueDueSchedules(
  store: Store,
  now: number,
  nextRunAt: (row: ScheduleRow) => number,
): Promise<EnqueuedPoll[]> {
  return withWriteTransaction(store, async (db) => {
    let due = db
      .selectFrom('schedules')
      .selectAll()
      .where('next_run_at', '<=', now)
      .orderBy('next_run_at')
      .limit(100);
    if (store.dialect === 'postgres') due = due.forUpdate().skipLocked();
    const rows = await due.execute();
    const out: EnqueuedPoll[] = [];
    for (const row of rows) {
      const { id, created } = await enqueueJob(
        { ...store, db },
        {
          kind: row.kind,
          connection: row.connection,
          payload: { scheduledAt: Number(row.next_run_at) },
          idempotencyKey: scheduleJobKey(row.connection, row.kind),
        },
        now,
      );
      const next = nextRunAt(row);
      await db
        .updateTable('schedules')
        .set({ next_run_at: next, last_enqueued_at: now, last_job_id: id, updated_at: now })
        .where('connection', '=', row.connection)
        .where('kind', '=', row.kind)
        .execute();
      out.push({ connection: row.connection, kind: row.kind, jobId: id, created, nextRunAt: next });
    }
    return out;
  });
}

export async function listSchedules(store: Store): Promise<ScheduleRow[]> {
  return store.db.selectFrom('schedules').selectAll().orderBy('connection').orderBy('kind').execute();
}
