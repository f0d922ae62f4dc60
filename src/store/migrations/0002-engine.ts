/**
 * 0002: what the engine needs besides the `jobs` table of 0001: the attempt history (kept across
 * replays), the poll schedules (next due time lives in the database), the shared rate-limit rows,
 * and the indexes that make claims cheap and keep a group key to one running job.
 */
import { type Kysely, sql } from 'kysely';
import type { MigrationContext } from './index.js';

export async function up(db: Kysely<unknown>, { dialect }: MigrationContext): Promise<void> {
  const time = dialect === 'postgres' ? 'bigint' : 'integer';
  const id = dialect === 'postgres' ? 'bigserial' : 'integer';
  const ref = dialect === 'postgres' ? 'bigint' : 'integer';

  // When the current attempt started (the attempt history needs it even if another process ends it).
  await db.schema.alterTable('jobs').addColumn('started_at', time).execute();
  // How many times an operator put this job back after it died.
  await db.schema
    .alterTable('jobs')
    .addColumn('replays', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  // The due jobs of one kind across connections (the worker picks the connection of the oldest).
  await db.schema.createIndex('jobs_due').on('jobs').columns(['state', 'kind', 'run_at']).execute();
  await db.schema.createIndex('jobs_group').on('jobs').columns(['group_key', 'state']).execute();
  // At most one running job per group key, whatever a racing claimer does.
  await sql`CREATE UNIQUE INDEX jobs_running_group ON jobs (group_key) WHERE state = 'running' AND group_key IS NOT NULL`.execute(
    db,
  );
  await db.schema.createIndex('jobs_lease').on('jobs').columns(['state', 'lease_expires_at']).execute();

  await db.schema
    .createTable('job_attempts')
    .addColumn('id', id, (c) => (dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement()))
    .addColumn('job_id', ref, (c) => c.notNull())
    .addColumn('attempt', 'integer', (c) => c.notNull())
    .addColumn('worker', 'text')
    .addColumn('started_at', time)
    .addColumn('finished_at', time, (c) => c.notNull())
    .addColumn('outcome', 'text', (c) => c.notNull())
    .addColumn('error', 'text')
    .addColumn('result', 'text')
    .execute();
  await db.schema.createIndex('job_attempts_job').on('job_attempts').columns(['job_id', 'id']).execute();

  await db.schema
    .createTable('schedules')
    .addColumn('connection', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('interval_ms', time, (c) => c.notNull())
    .addColumn('next_run_at', time, (c) => c.notNull())
    .addColumn('last_enqueued_at', time)
    .addColumn('last_job_id', ref)
    .addColumn('updated_at', time, (c) => c.notNull())
    .addPrimaryKeyConstraint('schedules_pk', ['connection', 'kind'])
    .execute();

  await db.schema
    .createTable('rate_limits')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('window_ms', time, (c) => c.notNull())
    .addColumn('window_limit', 'integer', (c) => c.notNull())
    .addColumn('sent_at', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('server_remaining', 'integer')
    .addColumn('server_window_end', time)
    .addColumn('blocked_until', time)
    .addColumn('updated_at', time, (c) => c.notNull())
    .execute();
}
