/**
 * Claim: take up to `limit` due queued jobs of one kind for one connection, mark them running under
 * a lease owned by `owner`, and return them. PostgreSQL locks the candidates with
 * `FOR UPDATE SKIP LOCKED` so concurrent claimers take different jobs; SQLite runs the same steps in
 * an immediate transaction (one writer at a time).
 *
 * Group keys: a job whose group key already has a running job is not due, and a claim takes at
 * most one job per group key. The partial unique index `jobs_running_group` backs this up: if a
 * racing claimer got there first, the update fails on the index and this claim returns nothing.
 *
 * Idempotency keys: a key may have a running job and a queued follow-up (see `enqueue.ts`); the
 * follow-up is not due until every older job of its key has finished, and `jobs_running_key`
 * keeps a key to one running job if a racing claimer got there first.
 *
 * Without a connection named, the claim is fair between connections: it tries the connections that
 * have due jobs of the kind in order of how few of their jobs of the kind are running (then the
 * oldest due job first), and takes from the first one that has a claimable job. So a backlog on one
 * connection, or its SYSPRO group being busy, never holds back another connection. With
 * `capacity`, a connection whose running jobs already take all its room (its ShipStation key has
 * no request left in its window) is passed over, so the claimer does not sit in the limiter while
 * another connection's work could go.
 */
import { type Kysely, sql } from 'kysely';
import type { Database } from '../database.js';
import type { Store } from '../open.js';
import { type Job, toJob } from './job.js';
import { isUniqueViolation, withWriteTransaction } from './transaction.js';

export interface ClaimOptions {
  kind: string;
  /** Omitted: fair between connections (see above). */
  connection?: string;
  limit: number;
  /**
   * Fair claims only: how many batches of each connection may run at once just now (e.g. the
   * requests its ShipStation key may still send). A connection whose running jobs of the kind
   * already fill it is passed over. Connections not in the map are not limited.
   */
  capacity?: ReadonlyMap<string, number>;
  owner: string;
  leaseMs: number;
  now: number;
}

export async function claimJobs(store: Store, options: ClaimOptions): Promise<Job[]> {
  if (options.limit < 1) return [];
  const pg = store.dialect === 'postgres';
  try {
    return await withWriteTransaction(store, async (db) => {
      if (options.connection !== undefined) return claimIn(db, pg, options, options.connection);
      // The fairness order is read inside the claim's own transaction, and claims of one kind take
      // turns: SQLite's immediate transaction already makes them; on PostgreSQL a transaction-scoped
      // advisory lock per kind does. Otherwise two claims at once both read "nothing running" and
      // both drain the oldest backlog. A claim is a few statements, so the turns cost little.
      if (pg)
        await sql`select pg_advisory_xact_lock(hashtext(${`ml-connector:claim:${options.kind}`}))`.execute(
          db,
        );
      for (const connection of await connectionsByFairness(db, options)) {
        const jobs = await claimIn(db, pg, options, connection);
        if (jobs.length > 0) return jobs;
      }
      return [];
    });
  } catch (err) {
    // Another claimer started a job of the same group or key first: nothing to run from this claim now.
    if (isUniqueViolation(err)) return [];
    throw err;
  }
}

/** Connections with due jobs of the kind: fewest running of the kind first, then oldest due job. */
async function connectionsByFairness(db: Kysely<Database>, options: ClaimOptions): Promise<string[]> {
  const { kind, now } = options;
  const due = await db
    .selectFrom('jobs')
    .select(['connection', (eb) => eb.fn.min('run_at').as('oldest')])
    .where('state', '=', 'queued')
    .where('kind', '=', kind)
    .where('run_at', '<=', now)
    .groupBy('connection')
    .execute();
  if (due.length <= 1 && !options.capacity) return due.map((d) => d.connection);
  const running = await db
    .selectFrom('jobs')
    .select(['connection', (eb) => eb.fn.countAll<number>().as('n')])
    .where('state', '=', 'running')
    .where('kind', '=', kind)
    .groupBy('connection')
    .execute();
  const busy = new Map(running.map((r) => [r.connection, Number(r.n)]));
  const capacity = options.capacity;
  return due
    .filter((d) => {
      const room = capacity?.get(d.connection);
      return room === undefined || (busy.get(d.connection) ?? 0) < room;
    })
    .sort(
      (a, b) =>
        (busy.get(a.connection) ?? 0) - (busy.get(b.connection) ?? 0) ||
        Number(a.oldest) - Number(b.oldest) ||
        a.connection.localeCompare(b.connection),
    )
    .map((d) => d.connection);
}

async function claimIn(
  db: Kysely<Database>,
  pg: boolean,
  options: ClaimOptions,
  connection: string,
): Promise<Job[]> {
  const { kind, limit, owner, leaseMs, now } = options;
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
    // Keys (0005): a key's jobs run one at a time, oldest first. A queued job is not claimable
    // while a job with its key is running or an older one is queued (a follow-up waits for the
    // job it follows, also when that one waits for a retry). `jobs_running_key` backs this up.
    .where((eb) =>
      eb.or([
        eb('j.idempotency_key', 'is', null),
        eb.not(
          eb.exists(
            eb
              .selectFrom('jobs as k')
              .select(sql.lit(1).as('one'))
              .whereRef('k.idempotency_key', '=', 'j.idempotency_key')
              .whereRef('k.id', '<>', 'j.id')
              // Literal, so SQLite can use the partial index `jobs_active_key_slot`.
              .where(sql<boolean>`k.state in ('queued', 'running')`)
              .where((k) =>
                k.or([
                  k('k.state', '=', 'running'),
                  k.and([k('k.state', '=', 'queued'), k('k.id', '<', k.ref('j.id'))]),
                ]),
              ),
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
}
