/**
 * Lease expiry: running jobs whose lease ran out (their process died or hung without heartbeats)
 * are queued again at once, and the lost attempt is recorded as `lease_expired` with its owner.
 * Any process may run this; it is one idempotent transaction.
 *
 * A job that keeps losing its lease (it crashes or hangs its process every time) would otherwise
 * loop for ever: once its attempts reach `deadAfterAttempts` it becomes `dead` instead, visible and
 * replayable like any other dead job.
 */
import type { Store } from '../open.js';
import { withWriteTransaction } from './transaction.js';

export const DEAD_AFTER_LOST_ATTEMPTS = 20;

export async function requeueExpiredLeases(
  store: Store,
  now: number,
  deadAfterAttempts = DEAD_AFTER_LOST_ATTEMPTS,
): Promise<number[]> {
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
    const poisoned = rows.filter((r) => Number(r.attempts) >= deadAfterAttempts).map((r) => Number(r.id));
    const requeue = ids.filter((id) => !poisoned.includes(id));
    if (requeue.length > 0) {
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
        .where('id', 'in', requeue)
        .where('state', '=', 'running')
        .execute();
    }
    if (poisoned.length > 0) {
      await db
        .updateTable('jobs')
        .set({
          state: 'dead',
          lease_owner: null,
          lease_expires_at: null,
          finished_at: now,
          last_error: `lease expired on attempt ${deadAfterAttempts} or later: the job stops or hangs every process that runs it`,
          updated_at: now,
        })
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
