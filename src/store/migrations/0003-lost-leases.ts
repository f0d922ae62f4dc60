/**
 * 0003: `jobs.lost_leases` counts the attempts that ended because their process died or hung (the
 * lease expired) rather than because the job failed. The retry cadence counts failures only
 * (`attempts - lost_leases`), so a job orphaned by crashed processes still gets every retry; and a
 * job becomes dead for looping only after it has lost its lease that many times.
 */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('jobs')
    .addColumn('lost_leases', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
}
