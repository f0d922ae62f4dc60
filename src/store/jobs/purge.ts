/**
 * Retention: finished jobs (`succeeded` or `cancelled`) whose `finished_at` is before a cutoff are
 * deleted with their attempt rows, a batch per transaction so a large backlog never holds the
 * write lock for long. `dead` jobs are kept whatever their age: they wait for an operator to
 * replay or inspect them. Queued and running jobs are never touched.
 *
 * The audit table is the long-term record of what moved and is not purged here; its `job_id`
 * may then name a job that no longer exists.
 */
import type { Store } from '../open.js';
import { withWriteTransaction } from './transaction.js';

export interface PurgeOptions {
  /** Jobs that finished before this time (epoch ms) are deleted. */
  finishedBefore: number;
  /** Jobs deleted per transaction (default 1,000). */
  batchSize?: number;
}

export async function purgeFinishedJobs(store: Store, options: PurgeOptions): Promise<number> {
  const batchSize = Math.max(1, options.batchSize ?? 1000);
  let total = 0;
  for (;;) {
    const deleted = await withWriteTransaction(store, async (db) => {
      let pick = db
        .selectFrom('jobs')
        .select('id')
        .where('state', 'in', ['succeeded', 'cancelled'])
        .where('finished_at', '<', options.finishedBefore)
        .orderBy('id')
        .limit(batchSize);
      if (store.dialect === 'postgres') pick = pick.forUpdate().skipLocked();
      const ids = (await pick.execute()).map((r) => Number(r.id));
      if (ids.length === 0) return 0;
      await db.deleteFrom('job_attempts').where('job_id', 'in', ids).execute();
      await db.deleteFrom('jobs').where('id', 'in', ids).execute();
      return ids.length;
    });
    total += deleted;
    if (deleted < batchSize) return total;
  }
}

/** What `purgeFinishedJobs` would delete with the same cutoff, by kind and state (for --dry-run). */
export async function countPurgeable(
  store: Store,
  options: Pick<PurgeOptions, 'finishedBefore'>,
): Promise<Array<{ kind: string; state: string; count: number }>> {
  const rows = await store.db
    .selectFrom('jobs')
    .select(['kind', 'state', (eb) => eb.fn.countAll<number>().as('count')])
    .where('state', 'in', ['succeeded', 'cancelled'])
    .where('finished_at', '<', options.finishedBefore)
    .groupBy(['kind', 'state'])
    .orderBy('kind')
    .orderBy('state')
    .execute();
  return rows.map((r) => ({ kind: r.kind, state: r.state, count: Number(r.count) }));
}
