/**
 * Enqueue. Jobs with an idempotency key are one unit of work per key, as graphile-worker's job keys:
 *
 * - no active job has the key: the job is inserted;
 * - a queued job has it (not yet started, or waiting for a retry): the new job is coalesced into it:
 *   its payload replaces the queued one's (the newer event wins) and it runs at the earlier of the
 *   two due times; its attempts and last error are kept. `created: false`, `id` is that job;
 * - only a running job has it: the new job is inserted as its follow-up, queued behind it (a
 *   queued job is not claimed while an older active job has its key, `claim.ts`), because the
 *   running job may already have read its data before the event that enqueued the new one.
 *
 * So a key has at most two active jobs, one running and one queued; the partial unique index
 * `jobs_active_key_slot` (migration 0005) holds this whatever racing processes do: each active job
 * has a slot (0 or 1) of its key, and an insert that finds its slot taken looks again.
 */
import { type Insertable, sql } from 'kysely';
import type { JobsTable } from '../database.js';
import type { Store } from '../open.js';

export interface NewJob {
  kind: string;
  connection: string;
  payload?: unknown;
  /** Default: now. */
  runAt?: number;
  /**
   * One unit of work per key (see above). Keys are global, across kinds and connections, so a key names both
   * (`writeback:<connection>:<shipmentId>`, as `scheduleJobKey` does): two connections whose
   * ShipStation ids collide must not share one.
   */
  idempotencyKey?: string | null;
  /** Jobs with the same group key run one at a time, also global (`syspro:<connection>`). */
  groupKey?: string | null;
}

export interface EnqueueResult {
  id: number;
  /** False when the job was coalesced into a queued job with the same key (`id` is that job). */
  created: boolean;
  /** True when the job was inserted behind a running job with the same key (runs after it). */
  followUp?: boolean;
}

/**
 * `state IN ('queued', 'running')` written as literals: SQLite uses a partial index (here
 * `jobs_active_key_slot`) only when the query's WHERE implies the index's, which bound parameters
 * never do; with `where('state', 'in', [...])` the look-up walked every queued job instead.
 */
const isActive = sql<boolean>`state IN ('queued', 'running')`;

function toRow(job: NewJob, now: number): Insertable<JobsTable> {
  return {
    kind: job.kind,
    connection: job.connection,
    payload: JSON.stringify(job.payload ?? {}),
    state: 'queued',
    run_at: job.runAt ?? now,
    attempts: 0,
    idempotency_key: job.idempotencyKey ?? null,
    group_key: job.groupKey ?? null,
    created_at: now,
    updated_at: now,
  };
}

interface ActiveHolder {
  id: number;
  state: 'queued' | 'running';
  slot: number;
}

async function activeHolders(store: Store, key: string): Promise<ActiveHolder[]> {
  const rows = await activeRows(store, [key]);
  return rows.map((r) => ({
    id: Number(r.id),
    state: r.state as ActiveHolder['state'],
    slot: Number(r.key_slot),
  }));
}

/**
 * The active jobs holding any of `keys`, by id. On SQLite the partial index is named: without
 * statistics its planner prefers the `state` index for a long key list and walks every queued job
 * (a scan per webhook batch that grew with the queue); `INDEXED BY` makes it look up each key.
 */
async function activeRows(store: Store, keys: readonly string[]) {
  const indexed = store.dialect === 'sqlite' ? sql`INDEXED BY jobs_active_key_slot` : sql``;
  const { rows } = await sql<{
    id: number | string;
    state: string;
    key_slot: number | string;
    idempotency_key: string;
  }>`
    SELECT id, state, key_slot, idempotency_key FROM jobs ${indexed}
    WHERE idempotency_key IN (${sql.join(keys.map((k) => sql`${k}`))}) AND ${isActive}
    ORDER BY id`.execute(store.db);
  return rows;
}

/** Coalesces `job` into the queued job `id`; false when it is no longer queued (claimed meanwhile). */
async function coalesceInto(store: Store, id: number, job: NewJob, now: number): Promise<boolean> {
  const runAt = job.runAt ?? now;
  const updated = await store.db
    .updateTable('jobs')
    .set((eb) => ({
      payload: JSON.stringify(job.payload ?? {}),
      run_at: eb.case().when('run_at', '>', runAt).then(eb.val(runAt)).else(eb.ref('run_at')).end(),
      updated_at: now,
    }))
    .where('id', '=', id)
    .where('state', '=', 'queued')
    .executeTakeFirst();
  return Number(updated.numUpdatedRows) > 0;
}

/**
 * What to do with a keyed job given the key's active jobs: coalesce into the newest queued one, or
 * insert into the free slot (behind a running one, if any).
 */
function planFor(holders: ActiveHolder[]): { coalesce: number } | { slot: number; followUp: boolean } {
  const queued = holders.filter((h) => h.state === 'queued');
  if (queued.length > 0) return { coalesce: queued[queued.length - 1]!.id };
  const running = holders.find((h) => h.state === 'running');
  return running ? { slot: 1 - running.slot, followUp: true } : { slot: 0, followUp: false };
}

export async function enqueueJob(store: Store, job: NewJob, now: number): Promise<EnqueueResult> {
  const key = job.idempotencyKey ?? null;
  if (key === null) {
    const inserted = await store.db
      .insertInto('jobs')
      .values(toRow(job, now))
      .returning('id')
      .executeTakeFirstOrThrow();
    return { id: Number(inserted.id), created: true };
  }
  const fresh = await insertIfKeyIdle(store, job, key, now);
  if (fresh !== undefined) return { id: fresh, created: true };
  // A few tries: between our look-up and our write another process can claim the queued job,
  // finish the running one, or take the free slot.
  for (let tryNo = 0; tryNo < 5; tryNo++) {
    const plan = planFor(await activeHolders(store, key));
    if ('coalesce' in plan) {
      if (await coalesceInto(store, plan.coalesce, job, now)) return { id: plan.coalesce, created: false };
      continue;
    }
    const inserted = await store.db
      .insertInto('jobs')
      .values({ ...toRow(job, now), key_slot: plan.slot })
      .onConflict((oc) => oc.doNothing())
      .returning('id')
      .executeTakeFirst();
    if (inserted) return { id: Number(inserted.id), created: true, followUp: plan.followUp };
  }
  throw new Error(`enqueue of ${job.kind} key ${key} kept conflicting; try again`);
}

/**
 * The common case in one statement: insert into slot 0 if no active job has the key. Undefined when
 * one has (or a racing insert took the slot): the caller then decides with a look-up. The casts
 * give PostgreSQL the parameter types an INSERT … SELECT does not infer (SQLite reads them as
 * affinities); SQLite needs the WHERE for its upsert grammar anyway.
 */
async function insertIfKeyIdle(
  store: Store,
  job: NewJob,
  key: string,
  now: number,
): Promise<number | undefined> {
  const row = toRow(job, now);
  const { rows } = await sql<{ id: number | string }>`
    INSERT INTO jobs (kind, connection, payload, state, run_at, attempts, idempotency_key, group_key,
                      created_at, updated_at, key_slot)
    SELECT CAST(${row.kind} AS text), CAST(${row.connection} AS text), CAST(${row.payload} AS text), 'queued',
           CAST(${row.run_at} AS bigint), 0, CAST(${key} AS text), CAST(${row.group_key ?? null} AS text),
           CAST(${now} AS bigint), CAST(${now} AS bigint), 0
    WHERE NOT EXISTS (
      SELECT 1 FROM jobs WHERE idempotency_key = ${key} AND state IN ('queued', 'running'))
    ON CONFLICT DO NOTHING
    RETURNING id`.execute(store.db);
  return rows[0] === undefined ? undefined : Number(rows[0].id);
}

/** The newest active job holding `key` (the queued follow-up rather than the running job). */
export async function findActiveByKey(store: Store, key: string): Promise<number | undefined> {
  const holders = await activeHolders(store, key);
  return holders[holders.length - 1]?.id;
}

/**
 * Many jobs in few statements (chunks of 500 rows), with the same rules as `enqueueJob`. Returns
 * one result per input, in order. A key repeated within the call is one job: the first occurrence
 * reports how it was enqueued, later ones `created: false` with the same id, and the stored payload
 * is the last one's (the newest event), due at the earliest of their times.
 *
 * Rows are matched to inputs without trusting the order of `RETURNING`, which PostgreSQL does not
 * promise (see `insertMatched`). Needs no transaction: it may run inside the caller's.
 */
export async function enqueueJobs(store: Store, jobs: NewJob[], now: number): Promise<EnqueueResult[]> {
  const results: EnqueueResult[] = [];
  const CHUNK = 500;
  for (let start = 0; start < jobs.length; start += CHUNK) {
    const chunk = jobs.slice(start, start + CHUNK);
    results.push(...(await enqueueChunk(store, chunk, now)));
  }
  return results;
}

async function enqueueChunk(store: Store, chunk: NewJob[], now: number): Promise<EnqueueResult[]> {
  // One job per distinct key: the first occurrence's fields, the last payload, the earliest time.
  const firstIndexByKey = new Map<string, number>();
  const merged = new Map<number, NewJob>();
  chunk.forEach((job, i) => {
    const key = job.idempotencyKey ?? null;
    if (key === null) {
      merged.set(i, job);
      return;
    }
    const first = firstIndexByKey.get(key);
    if (first === undefined) {
      firstIndexByKey.set(key, i);
      merged.set(i, job);
      return;
    }
    const earlier = merged.get(first)!;
    merged.set(first, {
      ...earlier,
      payload: job.payload,
      runAt: Math.min(earlier.runAt ?? now, job.runAt ?? now),
    });
  });

  const keys = [...firstIndexByKey.keys()];
  const holdersByKey = new Map<string, ActiveHolder[]>();
  for (let i = 0; i < keys.length; i += 500) {
    const rows = await activeRows(store, keys.slice(i, i + 500));
    for (const r of rows) {
      const list = holdersByKey.get(r.idempotency_key!) ?? [];
      list.push({ id: Number(r.id), state: r.state as ActiveHolder['state'], slot: Number(r.key_slot) });
      holdersByKey.set(r.idempotency_key!, list);
    }
  }

  const outcome = new Map<number, EnqueueResult>();
  const toInsert: Array<{ index: number; job: NewJob; slot: number; followUp: boolean }> = [];
  const retryOneByOne: number[] = [];
  for (const [index, job] of merged) {
    const key = job.idempotencyKey ?? null;
    if (key === null) {
      toInsert.push({ index, job, slot: 0, followUp: false });
      continue;
    }
    const plan = planFor(holdersByKey.get(key) ?? []);
    if ('coalesce' in plan) {
      if (await coalesceInto(store, plan.coalesce, job, now))
        outcome.set(index, { id: plan.coalesce, created: false });
      else retryOneByOne.push(index);
    } else toInsert.push({ index, job, slot: plan.slot, followUp: plan.followUp });
  }

  if (toInsert.length > 0) {
    const placed = await insertMatched(store, toInsert, now);
    toInsert.forEach((t, n) => {
      const id = placed[n];
      if (id !== undefined)
        outcome.set(t.index, { id, created: true, ...(t.followUp ? { followUp: true } : {}) });
      // Another process took the key's slot meanwhile: decide again for this one.
      else retryOneByOne.push(t.index);
    });
  }
  for (const index of retryOneByOne) outcome.set(index, await enqueueJob(store, merged.get(index)!, now));

  return chunk.map((job, i) => {
    const own = outcome.get(i);
    if (own) return own.followUp ? own : { id: own.id, created: own.created };
    const first = outcome.get(firstIndexByKey.get(job.idempotencyKey!)!)!;
    return { id: first.id, created: false };
  });
}

/**
 * Inserts the rows in one statement and returns, per row, its id or undefined when its key's slot
 * was taken meanwhile (ON CONFLICT DO NOTHING). Never trusts the order of `RETURNING`:
 * - PostgreSQL: the ids are taken first (`nextval` of the jobs sequence, sorted, so they follow the
 *   input order) and inserted explicitly; `RETURNING id` then says which rows went in.
 * - SQLite: one INSERT inserts its VALUES rows one after another, and AUTOINCREMENT gives each row
 *   a larger id than every earlier one, so the returned ids sorted follow the input order among the
 *   rows that went in; keyed rows are matched by key (each key occurs once here), and the keyless
 *   ones, which always go in, take the remaining ids in order.
 */
async function insertMatched(
  store: Store,
  rows: Array<{ job: NewJob; slot: number }>,
  now: number,
): Promise<Array<number | undefined>> {
  if (store.dialect === 'postgres') {
    const { rows: seq } = await sql<{ id: string | number }>`
      SELECT nextval(pg_get_serial_sequence('jobs', 'id')) AS id FROM generate_series(1, ${rows.length})`.execute(
      store.db,
    );
    const ids = seq.map((r) => Number(r.id)).sort((a, b) => a - b);
    const inserted = await store.db
      .insertInto('jobs')
      .values(rows.map((r, n) => ({ ...toRow(r.job, now), id: ids[n]!, key_slot: r.slot })))
      .onConflict((oc) => oc.doNothing())
      .returning('id')
      .execute();
    const went = new Set(inserted.map((r) => Number(r.id)));
    return ids.map((id) => (went.has(id) ? id : undefined));
  }
  const inserted = await store.db
    .insertInto('jobs')
    .values(rows.map((r) => ({ ...toRow(r.job, now), key_slot: r.slot })))
    .onConflict((oc) => oc.doNothing())
    .returning(['id', 'idempotency_key'])
    .execute();
  const byKey = new Map<string, number>();
  const keyless: number[] = [];
  for (const r of inserted) {
    if (r.idempotency_key === null) keyless.push(Number(r.id));
    else byKey.set(r.idempotency_key, Number(r.id));
  }
  keyless.sort((a, b) => a - b);
  let next = 0;
  return rows.map((r) => {
    const key = r.job.idempotencyKey ?? null;
    return key === null ? keyless[next++] : byKey.get(key);
  });
}
