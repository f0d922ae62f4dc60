/**
 * Replay: dead jobs go back to `queued`, due now, with a fresh retry cadence (`attempts` and
 * `lost_leases` = 0).
 * Their attempt rows stay, so the history shows every earlier attempt; `replays` counts the replays.
 *
 * A dead job whose idempotency key is held by an active job (a newer one for the same thing) is
 * not replayed: that would run the same work twice. Nor is a dead job that is superseded: a newer
 * job (higher id) with the same key has since succeeded, so the work is done (a dead write-back
 * whose shipment was written by a later job would otherwise be written twice). `force` replays a
 * superseded job anyway (the operator knows the newer job did something else). Of several dead
 * jobs with the same key, the newest is replayed.
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

export interface ReplayOptions {
  /** Replay superseded jobs too (a newer job with the same key succeeded). */
  force?: boolean;
  /** Jobs updated per statement (default 500). */
  batchSize?: number;
  /** Told the counts so far: once the candidates are known, then after each batch (`replay`'s progress). */
  onProgress?: (progress: { replayed: number; skipped: number; total: number }) => void;
}

export interface ReplayCandidate {
  id: number;
  key: string | null;
  /** The newest job with the same key that succeeded after this one was created, if any. */
  supersededBy: number | null;
}

export interface ReplayResult {
  replayed: number[];
  /**
   * Jobs left dead because an active job holds the same idempotency key, a newer job with it
   * succeeded (`superseded by job N`), or a newer dead one was chosen.
   */
  skipped: Array<{ id: number; reason: string }>;
}

export async function findReplayCandidates(store: Store, filter: ReplayFilter): Promise<ReplayCandidate[]> {
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
  const candidates = rows.map((r) => ({ id: Number(r.id), key: r.idempotency_key }));
  const superseded = await findSuperseding(store, candidates);
  return candidates.map((c) => ({ ...c, supersededBy: superseded.get(c.id) ?? null }));
}

/**
 * For jobs with a key: the newest succeeded job with the same key and a higher id (created later),
 * by job id. Used by replay and by `jobs list` to show that a dead job's work was done since.
 */
export async function findSuperseding(
  store: Store,
  jobs: Array<{ id: number; key: string | null }>,
): Promise<Map<number, number>> {
  const keyed = jobs.filter((j): j is { id: number; key: string } => j.key !== null);
  const out = new Map<number, number>();
  for (let i = 0; i < keyed.length; i += 500) {
    const part = keyed.slice(i, i + 500);
    const succeeded = await store.db
      .selectFrom('jobs')
      .select(['idempotency_key', (eb) => eb.fn.max('id').as('newest')])
      .where('idempotency_key', 'in', [...new Set(part.map((j) => j.key))])
      .where('state', '=', 'succeeded')
      .groupBy('idempotency_key')
      .execute();
    const newest = new Map(succeeded.map((r) => [r.idempotency_key, Number(r.newest)]));
    for (const j of part) {
      const by = newest.get(j.key);
      if (by !== undefined && by > j.id) out.set(j.id, by);
    }
  }
  return out;
}

/** `%`, `_` and the escape character itself match literally (error texts hold `invalid_field_value`, `100%`). */
function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, '\\$&');
}

export async function replayJobs(
  store: Store,
  filter: ReplayFilter,
  now: number,
  options: ReplayOptions = {},
): Promise<ReplayResult> {
  return withWriteTransaction(store, async (db) => {
    const skipped: ReplayResult['skipped'] = [];
    const candidates = (await findReplayCandidates({ ...store, db }, filter)).filter((c) => {
      if (c.supersededBy === null || options.force) return true;
      skipped.push({ id: c.id, reason: `superseded by job ${c.supersededBy}` });
      return false;
    });
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
    const batch = Math.max(1, options.batchSize ?? 500);
    const total = chosen.length + skipped.length;
    const tell = () => options.onProgress?.({ replayed: replayed.length, skipped: skipped.length, total });
    tell();
    for (let i = 0; i < chosen.length; i += batch) {
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
        .where('id', 'in', chosen.slice(i, i + batch))
        .where('state', '=', filter.state ?? 'dead')
        .returning('id')
        .execute();
      replayed.push(...rows.map((r) => Number(r.id)));
      tell();
    }
    replayed.sort((a, b) => a - b);
    skipped.sort((a, b) => a.id - b.id);
    return { replayed, skipped };
  });
}
