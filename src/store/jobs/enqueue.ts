/**
 * Enqueue. A job with an idempotency key that an active (queued or running) job already holds is
 * not inserted: the partial unique index `jobs_active_key` decides, so two processes racing on the
 * same key still make one job. The result says which happened.
 */
import type { Insertable } from 'kysely';
import type { JobsTable } from '../database.js';
import type { Store } from '../open.js';

export interface NewJob {
  kind: string;
  connection: string;
  payload?: unknown;
  /** Default: now. */
  runAt?: number;
  /**
   * One active job per key. Keys are global, across kinds and connections, so a key names both
   * (`writeback:<connection>:<shipmentId>`, as `scheduleJobKey` does): two connections whose
   * ShipStation ids collide must not share one.
   */
  idempotencyKey?: string | null;
  /** Jobs with the same group key run one at a time, also global (`syspro:<connection>`). */
  groupKey?: string | null;
}

export interface EnqueueResult {
  id: number;
  /** False when an active job with the same idempotency key already existed (`id` is that job). */
  created: boolean;
}

const ACTIVE = ['queued', 'running'] as const;

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

export async function enqueueJob(store: Store, job: NewJob, now: number): Promise<EnqueueResult> {
  // Two tries: the active holder of the key can finish between our insert and our look-up.
  for (let tryNo = 0; tryNo < 3; tryNo++) {
    const inserted = await store.db
      .insertInto('jobs')
      .values(toRow(job, now))
      .onConflict((oc) => oc.doNothing())
      .returning('id')
      .executeTakeFirst();
    if (inserted) return { id: Number(inserted.id), created: true };
    if (!job.idempotencyKey) throw new Error(`enqueue of ${job.kind} for ${job.connection} inserted nothing`);
    const existing = await findActiveByKey(store, job.idempotencyKey);
    if (existing !== undefined) return { id: existing, created: false };
  }
  throw new Error(`enqueue of ${job.kind} key ${job.idempotencyKey} kept conflicting; try again`);
}

export async function findActiveByKey(store: Store, key: string): Promise<number | undefined> {
  const row = await store.db
    .selectFrom('jobs')
    .select('id')
    .where('idempotency_key', '=', key)
    .where('state', 'in', ACTIVE)
    .executeTakeFirst();
  return row ? Number(row.id) : undefined;
}

/**
 * Many jobs in few statements (chunks of 500 rows). Returns one result per input, in order; jobs
 * whose key is already active (or repeated earlier in the same call) are reported `created: false`.
 */
export async function enqueueJobs(store: Store, jobs: NewJob[], now: number): Promise<EnqueueResult[]> {
  const results: EnqueueResult[] = [];
  const CHUNK = 500;
  for (let start = 0; start < jobs.length; start += CHUNK) {
    const chunk = jobs.slice(start, start + CHUNK);
    const rows = await store.db
      .insertInto('jobs')
      .values(chunk.map((j) => toRow(j, now)))
      .onConflict((oc) => oc.doNothing())
      .returning(['id', 'idempotency_key'])
      .execute();
    // Rows come back in insertion order on both dialects; keyless jobs always insert.
    const createdByKey = new Map<string, number>();
    const keyless: number[] = [];
    for (const r of rows) {
      if (r.idempotency_key === null) keyless.push(Number(r.id));
      else createdByKey.set(r.idempotency_key, Number(r.id));
    }
    let keylessIndex = 0;
    const claimedKeys = new Set<string>();
    for (const job of chunk) {
      const key = job.idempotencyKey ?? null;
      if (key === null) {
        results.push({ id: keyless[keylessIndex++] ?? -1, created: true });
      } else if (createdByKey.has(key) && !claimedKeys.has(key)) {
        claimedKeys.add(key);
        results.push({ id: createdByKey.get(key)!, created: true });
      } else {
        const existing = createdByKey.get(key) ?? (await findActiveByKey(store, key)) ?? -1;
        results.push({ id: existing, created: false });
      }
    }
  }
  return results;
}
