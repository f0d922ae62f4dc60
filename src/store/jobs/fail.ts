/**
 * Fail: a job that `owner` still holds either goes back to `queued` at `retryAt` (a retry) or, with
 * `retryAt` null, becomes `dead` with its error kept. Either way the attempt is recorded.
 * Returns false when the lease was already lost (nothing changed).
 *
 * `inDoubt` (0004) marks the job's write as possibly done: it is stored on the job and stays there
 * through later failures and replays, until the job succeeds. Without it the mark is left as it is.
 */
import type { Store } from '../open.js';
import { clipError, formatInDoubt, type InDoubt } from './job.js';
import { withWriteTransaction } from './transaction.js';

export async function failJob(
  store: Store,
  owner: string,
  id: number,
  error: string,
  retryAt: number | null,
  now: number,
  options: { inDoubt?: InDoubt } = {},
): Promise<boolean> {
  const text = clipError(error);
  const inDoubt = options.inDoubt
    ? formatInDoubt({ ...options.inDoubt, error: clipError(options.inDoubt.error) })
    : undefined;
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
        ...(inDoubt === undefined ? {} : { in_doubt: inDoubt }),
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
