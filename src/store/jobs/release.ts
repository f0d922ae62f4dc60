/**
 * Release: give jobs back (graceful shutdown that ran out of time). They are queued again at once,
 * the attempt does not count against the retry cadence, and the history says `released`.
 */
import type { Store } from '../open.js';
import { withWriteTransaction } from './transaction.js';

export async function releaseJobs(
  store: Store,
  owner: string,
  ids: number[],
  now: number,
): Promise<number[]> {
  if (ids.length === 0) return [];
  return withWriteTransaction(store, async (db) => {
    const released = await db
      .updateTable('jobs')
      .set((eb) => ({
        state: 'queued',
        run_at: now,
        attempts: eb('attempts', '-', 1),
        lease_owner: null,
        lease_expires_at: null,
        updated_at: now,
      }))
      .where('id', 'in', ids)
      .where('state', '=', 'running')
      .where('lease_owner', '=', owner)
      .returning(['id', 'attempts', 'started_at'])
      .execute();
    if (released.length > 0) {
      await db
        .insertInto('job_attempts')
        .values(
          released.map((r) => ({
            job_id: Number(r.id),
            attempt: Number(r.attempts) + 1,
            worker: owner,
            started_at: r.started_at,
            finished_at: now,
            outcome: 'released' as const,
            error: 'released at shutdown before it finished',
            result: null,
          })),
        )
        .execute();
    }
    return released.map((r) => Number(r.id));
  });
}
