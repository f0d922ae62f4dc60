/**
 * Claim: take up to `limit` due queued jobs of one kind for one connection, mark them running under
 * a lease owned by `owner`, and return them. PostgreSQL locks the candidates with
 * `FOR UPDATE SKIP LOCKED` so concurrent claimers take different jobs; SQLite runs the same steps in
 * an immediate transaction (one writer at a time).
 *
 * Group keys: a job whose group key already has a running job is not due, and a claim takes at
 * most one job per group key. The partial unique index `jobs_running_group` backs this up: if a
 * racing claimer got there first, the update fails on the index and this claim returns nothing.
 */
import { sql } from 'kysely';
import type { Store } from '../open.js';
import { type Job, toJob } from './job.js';
import { isUniqueViolation, withWriteTransaction } from './transaction.js';

export interface ClaimOptions {
  kind: string;
  /** Omitted: the connection of the oldest due job of this kind. */
  connection?: string;
  limit: number;
  owner: string;
  leaseMs: number;
  now: number;
}

export async function claimJobs(store: Store, options: ClaimOptions): Promise<Job[]> {
  const { kind, limit, owner, leaseMs, now } = options;
  if (limit < 1) return [];
  const pg = store.dialect === 'postgres';
  try {
    return await withWriteTransaction(store, async (db) => {
      let connection = options.connection;
      if (connection === undefined) {
        let pick = db
          .selectFrom('jobs')
          .select('connection')
          .where('state', '=', 'queued')
          .where('kind', '=', kind)
          .where('run_at', '<=', now)
          .orderBy('run_at')
          .limit(1);
        if (pg) pick = pick.forUpdate().skipLocked();
        const row = await pick.executeTakeFirst();
        if (!row) return [];
        connection = row.connection;
      }
      let candidates = db
        .selectFrom('jobs as j')
        .select(['j.id', 'j.group_key'])
        .where('j.state', '=', 'queued')
        .where('j.kind', '=', kind)
        .where('j.connection', '=', connection)
        .where('j.run_at', '<=', now)
        .where((eb) =>
          eb.or([
            eb('j.group_key', 'is', null),
            eb.not(
              eb.exists(
                eb
                  .selectFrom('jobs as r')
                  .select(sql.lit(1).as('one'))
                  .whereRef('r.group_key', '=', 'j.group_key')
                  .where('r.state', '=', 'running'),
              ),
            ),
          ]),
        )
        .orderBy('j.run_at')
        .orderBy('j.id')
        .limit(limit);
      if (pg) candidates = candidates.forUpdate().skipLocked();
      const rows = await candidates.execute();
      const seenGroups = new Set<string>();
      const ids: number[] = [];
      for (const r of rows) {
        if (r.group_key !== null) {
          if (seenGroups.has(r.group_key)) continue;
          seenGroups.add(r.group_key);
        }
        ids.push(Number(r.id));
      }
      if (ids.length === 0) return [];
      const claimed = await db
        .updateTable('jobs')
        .set((eb) => ({
          state: 'running',
          attempts: eb('attempts', '+', 1),
          lease_owner: owner,
          lease_expires_at: now + leaseMs,
          last_heartbeat_at: now,
          started_at: now,
          updated_at: now,
        }))
        .where('id', 'in', ids)
        .where('state', '=', 'queued')
        .returningAll()
        .execute();
      return claimed.map(toJob).sort((a, b) => a.runAt - b.runAt || a.id - b.id);
    });
  } catch (err) {
    // Another claimer started a job of the same group first: nothing to run from this batch now.
    if (isUniqueViolation(err)) return [];
    throw err;
  }
}
