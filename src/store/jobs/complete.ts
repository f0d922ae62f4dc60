/**
 * Complete: jobs that `owner` still holds become `succeeded`, and each gets its attempt row, in one
 * transaction. A job whose lease was lost (expired and taken by another process, or released) is
 * left alone: the returned ids are the ones this call completed.
 */
import type { Store } from '../open.js';
import { withWriteTransaction } from './transaction.js';

export interface Completion {
  id: number;
  /** What the handler returned, kept (as JSON) on the attempt row. */
  result?: unknown;
}

export async function completeJobs(
  store: Store,
  owner: string,
  completions: Completion[],
  now: number,
): Promise<number[]> {
  if (completions.length === 0) return [];
  const results = new Map(completions.map((c) => [c.id, c.result]));
  return withWriteTransaction(store, async (db) => {
    const done = await db
      .updateTable('jobs')
      .set({
        state: 'succeeded',
        finished_at: now,
        updated_at: now,
        lease_owner: null,
        lease_expires_at: null,
        last_error: null,
      })
      .where('id', 'in', [...results.keys()])
      .where('state', '=', 'running')
      .where('lease_owner', '=', owner)
      .returning(['id', 'attempts', 'started_at'])
      .execute();
    if (done.length > 0) {
      await db
        .insertInto('job_attempts')
        .values(
          done.map((d) => {
            const result = results.get(Number(d.id));
            return {
              job_id: Number(d.id),
              attempt: Number(d.attempts),
              worker: owner,
              started_at: d.started_at,
              finished_at: now,
              outcome: 'succeeded' as const,
              error: null,
              result: result === undefined ? null : JSON.stringify(result),
            };
          }),
        )
        .execute();
    }
    return done.map((d) => Number(d.id));
  });
}
