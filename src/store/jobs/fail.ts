/**
 * Fail: a job that `owner` still holds either goes back to `queued` at `retryAt` (a retry) or, with
 * `retryAt` null, becomes `dead` with its error kept. Either way the attempt is recorded.
 * Returns false when the lease was already lost (nothing changed).
 */
import type { Store } from '../open.js';
import { clipError } from './job.js';
import { withWriteTransaction } from './transaction.js';

export async function failJob(
  store: Store,
  owner: string,
  id: number,
  error: string,
  retryAt: number | null,
  now: number,
): Promise<boolean> {
  const text = clipError(error);
  return withWriteTransaction(store, async (db) => {
    const row = await db
      .updateTable('jobs')
      .set({
        state: retryAt === null ? 'dead' : 'queued',
        run_at: retryAt ?? now,
        finished_at: retryAt === null ? now : null,
        last_error: text,
        lease_owner: null,
        lease_expires_at: null,
        updated_at: now,
      })
      .where('id', '=', id)
      .where('state', '=', 'running')
      .where('lease_owner', '=', owner)
      .returning(['id', 'attempts', 'started_at'])
      .executeTakeFirst();
    if (!row) return false;
    await db
      .insertInto('job_attempts')
      .values({
        job_id: id,
        attempt: Number(row.attempts),
        worker: owner,
        started_at: row.started_at,
        finished_at: now,
        outcome: retryAt === null ? 'dead' : 'failed',
        error: text,
        result: null,
      })
      .execute();
    return true;
  });
}
