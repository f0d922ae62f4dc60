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
