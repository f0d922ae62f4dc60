/**
 * Complete: jobs that `owner` still holds become `succeeded`, and each gets its attempt row, in one
 * transaction. A job whose lease was lost (expired and taken by another process, or released) is
 * left alone: the returned ids are the ones this call completed.
 *
 * A completion may carry `record`: writes that belong with it (the link and audit rows of a SYSPRO
 * write, DESIGN "Guarantees"). They run inside the same transaction, only for jobs this call
 * completes, so the job is succeeded if and only if they are stored. If one throws, nothing of the
 * call is committed and the error is thrown.
 *
 * Success clears the in-doubt mark (0004): the job's effect is now known to be there.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../database.js';
import type { Store } from '../open.js';
import { withWriteTransaction } from './transaction.js';

export interface Completion {
  id: number;
  /** What the handler returned, kept (as JSON) on the attempt row. */
  result?: unknown;
  /** Writes committed with the completion (only when this call completes the job). */
  record?: (db: Kysely<Database>) => Promise<void>;
}

export async function completeJobs(
  store: Store,
  owner: string,
  completions: Completion[],
  now: number,
): Promise<number[]> {
  if (completions.length === 0) return [];
  const results = new Map(completions.map((c) => [c.id, c.result]));
  const records = new Map(completions.flatMap((c) => (c.record ? [[c.id, c.record] as const] : [])));
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
        in_doubt: null,
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
      for (const d of done) await records.get(Number(d.id))?.(db);
    }
    return done.map((d) => Number(d.id));
  });
}
