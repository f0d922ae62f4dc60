/**
 * 0005: follow-up jobs. An idempotency key may now have two active jobs: one running and one queued
 * behind it (the follow-up for an event that arrived while the first ran), never two running.
 *
 * - `jobs.key_slot` (0 or 1): the slot an active job holds within its key. The unique index on
 *   (key, slot) over active jobs replaces `jobs_active_key`, so a key has at most two active jobs
 *   whatever racing enqueuers do; a job keeps its slot when it goes back to `queued` (retry, lease
 *   expiry, release), so those transitions never conflict.
 * - `jobs_running_key`: at most one running job per key, whatever a racing claimer does (the claim
 *   only takes the oldest active job of a key; see `store/jobs/claim.ts`).
 */
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('jobs')
    .addColumn('key_slot', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await sql`DROP INDEX jobs_active_key`.execute(db);
  await sql`CREATE UNIQUE INDEX jobs_active_key_slot ON jobs (idempotency_key, key_slot) WHERE state IN ('queued', 'running')`.execute(
    db,
  );
  await sql`CREATE UNIQUE INDEX jobs_running_key ON jobs (idempotency_key) WHERE state = 'running' AND idempotency_key IS NOT NULL`.execute(
    db,
  );
}
