/**
 * 0004: `jobs.in_doubt` marks a job whose write may have taken effect although it failed (a timeout
 * or reset after a SYSPRO post went out, a 5xx to a V2 `increment`, the job's record writes
 * failing after its outside write): JSON `{ since, error, evidence? }`, null when not in doubt. Set
 * by a failure the engine classifies as in doubt, kept through retries and replays, cleared when the
 * job succeeds. The next attempt gets it as `job.inDoubt` and must check the target system before
 * sending anything again.
 */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('jobs').addColumn('in_doubt', 'text').execute();
}
