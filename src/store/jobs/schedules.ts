/**
 * Schedules: one row per (connection, kind) with an interval and the next due time. Enqueueing the
 * due ones and moving their next due time happen in one transaction (rows locked with
 * `FOR UPDATE SKIP LOCKED` on PostgreSQL, an immediate transaction on SQLite), so a restart neither
 * skips nor repeats a poll, and two processes never enqueue the same poll twice. The job itself is a
 * singleton through its idempotency key (`enqueue.ts`): a due schedule whose poll is still queued
 * (e.g. waiting for a retry) coalesces into it and makes it due now; one whose poll is running gets
 * one follow-up poll that runs after it.
 */
import type { Selectable } from 'kysely';
import type { SchedulesTable } from '../database.js';
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
 * Makes the table match `specs`: new schedules are due at `firstRunAt(spec)`, a changed interval
 * keeps the earlier of the stored due time and `now + interval`, schedules not in `specs` are removed.
 */
export async function syncScheduleRows(
  store: Store,
  specs: ScheduleSpec[],
  now: number,
  firstRunAt: (spec: ScheduleSpec) => number,
): Promise<{ added: number; changed: number; removed: number }> {
  return withWriteTransaction(store, async (db) => {
    const existing = await db.selectFrom('schedules').selectAll().execute();
    const byId = new Map(existing.map((r) => [`${r.connection}\u0000${r.kind}`, r]));
    let added = 0;
    let changed = 0;
    for (const spec of specs) {
      const id = `${spec.connection}\u0000${spec.kind}`;
      const row = byId.get(id);
      byId.delete(id);
      if (!row) {
        await db
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
          .execute();
        added++;
      } else if (Number(row.interval_ms) !== spec.intervalMs) {
        await db
          .updateTable('schedules')
          .set({
            interval_ms: spec.intervalMs,
            next_run_at: Math.min(Number(row.next_run_at), now + spec.intervalMs),
            updated_at: now,
          })
          .where('connection', '=', spec.connection)
          .where('kind', '=', spec.kind)
          .execute();
        changed++;
      }
    }
    for (const gone of byId.values()) {
      await db
        .deleteFrom('schedules')
        .where('connection', '=', gone.connection)
        .where('kind', '=', gone.kind)
        .execute();
    }
    return { added, changed, removed: byId.size };
  });
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
