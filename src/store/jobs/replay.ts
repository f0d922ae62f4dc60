/**
 * Replay: dead jobs go back to `queued`, due now, with a fresh retry cadence (`attempts` and
 * `lost_leases` = 0).
 * Their attempt rows stay, so the history shows every earlier attempt; `replays` counts the replays.
 *
 * A dead job whose idempotency key is held by an active job (a newer one for the same thing) is
 * not replayed: that would run the same work twice. Of several dead jobs with the same key, the
 * newest is replayed.
 */
import { sql } from 'kysely';
import type { JobState } from '../database.js';
import type { Store } from '../open.js';
import { withWriteTransaction } from './transaction.js';

export interface ReplayFilter {
  ids?: number[];
  kind?: string;
  connection?: string;
  /** Substring of `last_error`. */
  errorContains?: string;
  /** Died at or after (epoch ms). */
  finishedSince?: number;
  /** Default `dead`; `cancelled` may be replayed too. */
  state?: Extract<JobState, 'dead' | 'cancelled'>;
}

export interface ReplayResult {
  replayed: number[];
  /** Jobs left dead because an active job holds the same idempotency key (or a newer dead one was chosen). */
  skipped: Array<{ id: number; reason: string }>;
}

export async function findReplayCandidates(
  store: Store,
  filter: ReplayFilter,
): Promise<Array<{ id: number; key: string | null }>> {
  let q = store.db
    .selectFrom('jobs')
    .select(['id', 'idempotency_key'])
    .where('state', '=', filter.state ?? 'dead');
  if (filter.ids) q = q.where('id', 'in', filter.ids.length > 0 ? filter.ids : [-1]);
  if (filter.kind) q = q.where('kind', '=', filter.kind);
  if (filter.connection) q = q.where('connection', '=', filter.connection);
  if (filter.errorContains) {
    // Case-insensitive on both dialects (PostgreSQL's LIKE is case-sensitive, SQLite's is not).
    const pattern = `%${escapeLike(filter.errorContains.toLowerCase())}%`;
    q = q.where(sql<boolean>`lower(last_error) like ${pattern} escape '\\'`);
  }
  if (filter.finishedSince !== undefined) q = q.where('finished_at', '>=', filter.finishedSince);
  const rows = await q.orderBy('id').execute();
  return rows.map((r) => ({ id: Number(r.id), key: r.idempotency_key }));
}

/** `%`, `_` and the escape character itself match literally (error texts hold `invalid_field_value`, `100%`). */
function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, '\\$&');
}

export async function replayJobs(store: Store, filter: ReplayFilter, now: number): Promise<ReplayResult> {
  return withWriteTransaction(store, async (db) => {
    const candidates = await findReplayCandidates({ ...store, db }, filter);
    const skipped: ReplayResult['skipped'] = [];
    // Newest dead job per key wins.
    const byKey = new Map<string, number>();
    const chosen: number[] = [];
    for (const c of [...candidates].reverse()) {
      if (c.key === null) chosen.push(c.id);
      else if (byKey.has(c.key)) {
        skipped.push({ id: c.id, reason: `job ${byKey.get(c.key)} with the same key is replayed instead` });
      } else byKey.set(c.key, c.id);
    }
    if (byKey.size > 0) {
      const active = await db
        .selectFrom('jobs')
        .select(['id', 'idempotency_key'])
        .where('idempotency_key', 'in', [...byKey.keys()])
        .where('state', 'in', ['queued', 'running'])
        .execute();
      const activeByKey = new Map(active.map((a) => [a.idempotency_key, Number(a.id)]));
      for (const [key, id] of byKey) {
        const holder = activeByKey.get(key);
        if (holder !== undefined) skipped.push({ id, reason: `active job ${holder} already has key ${key}` });
        else chosen.push(id);
      }
    }
    const replayed: number[] = [];
    for (let i = 0; i < chosen.length; i += 500) {
      const rows = await db
        .updateTable('jobs')
        .set((eb) => ({
          state: 'queued',
          run_at: now,
          attempts: 0,
          lost_leases: 0,
          replays: eb('replays', '+', 1),
          finished_at: null,
          lease_owner: null,
          lease_expires_at: null,
          updated_at: now,
        }))
        .where('id', 'in', chosen.slice(i, i + 500))
        .where('state', '=', filter.state ?? 'dead')
        .returning('id')
        .execute();
      replayed.push(...rows.map((r) => Number(r.id)));
    }
    replayed.sort((a, b) => a - b);
    skipped.sort((a, b) => a.id - b.id);
    return { replayed, skipped };
  });
}
