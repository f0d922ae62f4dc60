/**
 * Lease expiry: running jobs whose lease ran out (their process died or hung without heartbeats)
 * are queued again at once, and the lost attempt is recorded as `lease_expired` with its owner.
 * Any process may run this; it is one idempotent transaction.
 */
import type { Store } from '../open.js';
import { withWriteTransaction } from './transaction.js';

export async function requeueExpiredLeases(store: Store, now: number): Promise<number[]> {
  return withWriteTransaction(store, async (db) => {
    let expired = db
      .selectFrom('jobs')
      .select(['id', 'attempts', 'lease_owner', 'started_at', 'lease_expires_at'])
      .where('state', '=', 'running')
      .where('lease_expires_at', '<', now)
      .orderBy('id')
      .limit(1000);
    if (store.dialect === 'postgres') expired = expired.forUpdate().skipLocked();
    const rows = await expired.execute();
    if (rows.length === 0) return [];
    const ids = rows.map((r) => Number(r.id));
    await db
      .updateTable('jobs')
      .set({
        state: 'queued',
        run_at: now,
        lease_owner: null,
        lease_expires_at: null,
        last_error: 'lease expired: the process running it stopped sending heartbeats',
        updated_at: now,
      })
      .where('id', 'in', ids)
      .where('state', '=', 'running')
      .execute();
    await db
      .insertInto('job_attempts')
      .values(
        rows.map((r) => ({
          job_id: Number(r.id),
          attempt: Number(r.attempts),
          worker: r.lease_owner,
          started_at: r.started_at,
          finished_at: Number(r.lease_expires_at),
          outcome: 'lease_expired' as const,
          error: `lease of ${r.lease_owner ?? 'an unknown worker'} expired; the job was queued again`,
          result: null,
        })),
      )
      .execute();
    return ids;
  });
}
