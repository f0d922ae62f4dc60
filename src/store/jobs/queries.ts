/** Read-only views of the jobs for the CLI, the dashboard and tests. */
import type { JobState } from '../database.js';
import type { Store } from '../open.js';
import { type Job, type JobAttempt, toJob, toJobAttempt } from './job.js';

export interface JobCount {
  kind: string;
  state: JobState;
  count: number;
}

export async function countJobsByKindAndState(
  store: Store,
  filter: { connection?: string } = {},
): Promise<JobCount[]> {
  let q = store.db
    .selectFrom('jobs')
    .select(['kind', 'state', (eb) => eb.fn.countAll<number>().as('count')])
    .groupBy(['kind', 'state']);
  if (filter.connection) q = q.where('connection', '=', filter.connection);
  const rows = await q.orderBy('kind').orderBy('state').execute();
  return rows.map((r) => ({ kind: r.kind, state: r.state, count: Number(r.count) }));
}

export interface JobListFilter {
  state?: JobState;
  kind?: string;
  connection?: string;
  limit?: number;
}

export async function listJobs(store: Store, filter: JobListFilter = {}): Promise<Job[]> {
  let q = store.db.selectFrom('jobs').selectAll();
  if (filter.state) q = q.where('state', '=', filter.state);
  if (filter.kind) q = q.where('kind', '=', filter.kind);
  if (filter.connection) q = q.where('connection', '=', filter.connection);
  const rows = await q
    .orderBy('id', 'desc')
    .limit(filter.limit ?? 100)
    .execute();
  return rows.map(toJob);
}

export async function getJob(store: Store, id: number): Promise<Job | undefined> {
  const row = await store.db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? toJob(row) : undefined;
}

/** The attempt history of a job, oldest first (earlier runs included after a replay). */
export async function listAttempts(store: Store, jobId: number): Promise<JobAttempt[]> {
  const rows = await store.db
    .selectFrom('job_attempts')
    .selectAll()
    .where('job_id', '=', jobId)
    .orderBy('id')
    .execute();
  return rows.map(toJobAttempt);
}

export interface ScheduleStatus {
  connection: string;
  kind: string;
  intervalMs: number;
  nextRunAt: number;
  lastEnqueuedAt: number | null;
  /** The poll job the schedule last enqueued (or coalesced into), and how it stands. */
  lastJob: {
    id: number;
    state: JobState;
    /** Failed attempts of its current run (a poll that keeps failing keeps counting here). */
    failures: number;
    lastError: string | null;
  } | null;
}

/** Every schedule with its last poll job: whether polls are failing, how often, and why. */
export async function listScheduleStatus(store: Store): Promise<ScheduleStatus[]> {
  const rows = await store.db
    .selectFrom('schedules as s')
    .leftJoin('jobs as j', 'j.id', 's.last_job_id')
    .select([
      's.connection',
      's.kind',
      's.interval_ms',
      's.next_run_at',
      's.last_enqueued_at',
      'j.id as job_id',
      'j.state',
      'j.attempts',
      'j.lost_leases',
      'j.last_error',
    ])
    .orderBy('s.connection')
    .orderBy('s.kind')
    .execute();
  return rows.map((r) => {
    let lastJob: ScheduleStatus['lastJob'] = null;
    if (r.job_id !== null && r.state !== null) {
      // `attempts` counts every start; the one running or that succeeded is not a failure.
      const ongoing = r.state === 'running' || r.state === 'succeeded' ? 1 : 0;
      lastJob = {
        id: Number(r.job_id),
        state: r.state,
        failures: Math.max(0, Number(r.attempts) - Number(r.lost_leases) - ongoing),
        lastError: r.state === 'succeeded' ? null : r.last_error,
      };
    }
    return {
      connection: r.connection,
      kind: r.kind,
      intervalMs: Number(r.interval_ms),
      nextRunAt: Number(r.next_run_at),
      lastEnqueuedAt: r.last_enqueued_at === null ? null : Number(r.last_enqueued_at),
      lastJob,
    };
  });
}
