/**
 * Lease expiry: running jobs whose lease ran out (their process died or hung without heartbeats)
 * are queued again at once, and the lost attempt is recorded as `lease_expired` with its owner.
 * Any process may run this; it is one idempotent transaction.
 *
 * Each expiry adds one to `lost_leases`, so the retry cadence (which counts failures only) is not
 * used up by processes that died. A job that keeps losing its lease (it crashes or hangs its
 * process every time) would otherwise loop for ever: when it loses its lease for the
 * `deadAfterLost`th time it becomes `dead` instead, visible and replayable like any other dead job.
 */
import type { Store } from '../open.js';
import { withWriteTransaction } from './transaction.js';

export const DEAD_AFTER_LOST_LEASES = 20;

export async function requeueExpiredLeases(
  store: Store,
  now: number,
  deadAfterLost = DEAD_AFTER_LOST_LEASES,
): Promise<number[]> {
  return withWriteTransaction(store, async (db) => {
    let expired = db
      .selectFrom('jobs')
      .select(['id', 'attempts', 'lost_leases', 'lease_owner', 'started_at', 'lease_expires_at'])
      .where('state', '=', 'running')
      .where('lease_expires_at', '<', now)
      .orderBy('id')
      .limit(1000);
    if (store.dialect === 'postgres') expired = expired.forUpdate().skipLocked();
    const rows = await expired.execute();
    if (rows.length === 0) return [];
    const ids = rows.map((r) => Number(r.id));
    const poisoned = rows.filter((r) => Number(r.lost_leases) + 1 >= deadAfterLost).map((r) => Number(r.id));
    const requeue = ids.filter((id) => !poisoned.includes(id));
    if (requeue.length > 0) {
      await db
        .updateTable('jobs')
        .set((eb) => ({
          state: 'queued',
          run_at: now,
          lost_leases: eb('lost_leases', '+', 1),
          lease_owner: null,
          lease_expires_at: null,
          last_error: 'lease expired: the process running it stopped sending heartbeats',
          updated_at: now,
        }))
        .where('id', 'in', requeue)
        .where('state', '=', 'running')
        .execute();
    }
    if (poisoned.length > 0) {
      await db
        .updateTable('jobs')
        .set((eb) => ({
          state: 'dead',
          lost_leases: eb('lost_leases', '+', 1),
          lease_owner: null,
          lease_expires_at: null,
          finished_at: now,
          last_error: `lease expired ${deadAfterLost} times: the job stops or hangs every process that runs it`,
          updated_at: now,
        }))
        .where('id', 'in', poisoned)
        .where('state', '=', 'running')
        .execute();
    }
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
          error: `lease of ${r.lease_owner ?? 'an unknown worker'} expired; ${
            poisoned.includes(Number(r.id))
              ? 'the job is dead (it keeps losing its lease)'
              : 'the job was queued again'
          }`,
          result: null,
        })),
      )
      .execute();
    return ids;
  });
}
