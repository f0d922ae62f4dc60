/**
 * The Overview of one connection, from the store (the same for every process on it): each poll's
 * last and next run, orders pushed and shipments written (audit rows), the queue by state, hourly
 * throughput over the last 24 hours, and the health of SYSPRO and ShipStation as the jobs that call
 * them saw it (their last succeeded and last failed attempts), with ShipStation's budget left.
 */
import { sql } from 'kysely';
import type { JobState } from './database.js';
import { listScheduleStatus } from './jobs/queries.js';
import type { Store } from './open.js';

export const HOUR_MS = 3_600_000;

/** Audit rows that count as an order pushed to ShipStation. */
export const ORDER_PUSH_ACTIONS = ['create', 'update'];
/** Audit rows that count as a shipment written to SYSPRO. */
export const SHIPMENT_WRITE_ACTIONS = ['dispatch-note', 'order-update'];

/** Which system a job kind talks to, for the health lines (the kind's main target). */
export const KIND_SYSTEM: Record<string, 'syspro' | 'shipstation'> = {
  'orders.poll': 'syspro',
  'customers.poll': 'syspro',
  'inventory.poll': 'syspro',
  'shipments.writeback': 'syspro',
  'orders.push': 'shipstation',
  'shipments.poll': 'shipstation',
};

export interface PollStatus {
  kind: string;
  intervalMs: number;
  nextRunAt: number;
  lastRunAt: number | null;
  lastSuccessAt: number | null;
  lastState: JobState | null;
  failures: number;
  lastError: string | null;
}

export interface SystemHealth {
  system: 'syspro' | 'shipstation';
  lastSuccessAt: number | null;
  lastErrorAt: number | null;
  lastError: string | null;
}

export interface Budget {
  key: string;
  limit: number;
  remaining: number;
}

export interface ThroughputBucket {
  /** Start of the hour (epoch ms). */
  hour: number;
  ordersPushed: number;
  shipmentsWritten: number;
}

export interface ConnectionOverview {
  connection: string;
  at: number;
  polls: PollStatus[];
  ordersPushed: number;
  shipmentsWritten: number;
  /** Jobs by state (every kind). */
  queue: Record<JobState, number>;
  throughput: ThroughputBucket[];
  health: SystemHealth[];
}

async function auditCount(
  store: Store,
  connection: string,
  flow: string,
  actions: string[],
): Promise<number> {
  const row = await store.db
    .selectFrom('audit')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('connection', '=', connection)
    .where('flow', '=', flow)
    .where('action', 'in', actions)
    .where('outcome', '=', 'ok')
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}

/** Orders pushed and shipments written per hour, over the 24 hours up to `now` (oldest first). */
export async function hourlyThroughput(
  store: Store,
  connection: string,
  now: number,
): Promise<ThroughputBucket[]> {
  const first = Math.floor(now / HOUR_MS) * HOUR_MS - 23 * HOUR_MS;
  // Integer division on both dialects (bigint on PostgreSQL, integer on SQLite).
  const hour = sql<number>`(at / ${sql.lit(HOUR_MS)})`;
  const rows = await store.db
    .selectFrom('audit')
    .select([hour.as('h'), 'flow', (eb) => eb.fn.countAll<number>().as('n')])
    .where('connection', '=', connection)
    .where('at', '>=', first)
    .where('outcome', '=', 'ok')
    .where((eb) =>
      eb.or([
        eb.and([eb('flow', '=', 'orders'), eb('action', 'in', ORDER_PUSH_ACTIONS)]),
        eb.and([eb('flow', '=', 'shipments'), eb('action', 'in', SHIPMENT_WRITE_ACTIONS)]),
      ]),
    )
    .groupBy([hour, 'flow'])
    .execute();
  const buckets: ThroughputBucket[] = [];
  for (let i = 0; i < 24; i++)
    buckets.push({ hour: first + i * HOUR_MS, ordersPushed: 0, shipmentsWritten: 0 });
  for (const r of rows) {
    const b = buckets[Math.floor(Number(r.h)) - first / HOUR_MS];
    if (!b) continue;
    if (r.flow === 'orders') b.ordersPushed += Number(r.n);
    else b.shipmentsWritten += Number(r.n);
  }
  return buckets;
}

/** The last succeeded and failed attempt of the jobs that talk to each system. */
export async function systemHealth(store: Store, connection: string): Promise<SystemHealth[]> {
  const rows = await store.db
    .selectFrom('job_attempts as a')
    .innerJoin('jobs as j', 'j.id', 'a.job_id')
    .select(['j.kind', 'a.outcome', (eb) => eb.fn.max('a.finished_at').as('at')])
    .where('j.connection', '=', connection)
    .groupBy(['j.kind', 'a.outcome'])
    .execute();
  const out: Record<'syspro' | 'shipstation', SystemHealth> = {
    syspro: { system: 'syspro', lastSuccessAt: null, lastErrorAt: null, lastError: null },
    shipstation: { system: 'shipstation', lastSuccessAt: null, lastErrorAt: null, lastError: null },
  };
  for (const r of rows) {
    const system = KIND_SYSTEM[r.kind];
    if (!system || r.at == null) continue;
    const h = out[system];
    const at = Number(r.at);
    if (r.outcome === 'succeeded') h.lastSuccessAt = Math.max(h.lastSuccessAt ?? 0, at);
    else if (r.outcome === 'failed' || r.outcome === 'dead') h.lastErrorAt = Math.max(h.lastErrorAt ?? 0, at);
  }
  for (const h of Object.values(out)) {
    if (h.lastErrorAt === null) continue;
    const kinds = Object.entries(KIND_SYSTEM)
      .filter(([, s]) => s === h.system)
      .map(([k]) => k);
    const row = await store.db
      .selectFrom('job_attempts as a')
      .innerJoin('jobs as j', 'j.id', 'a.job_id')
      .select(['a.error'])
      .where('j.connection', '=', connection)
      .where('j.kind', 'in', kinds)
      .where('a.outcome', 'in', ['failed', 'dead'])
      .orderBy('a.finished_at', 'desc')
      .limit(1)
      .executeTakeFirst();
    h.lastError = row?.error ?? null;
  }
  return [out.syspro, out.shipstation];
}

export async function connectionOverview(
  store: Store,
  connection: string,
  now: number,
): Promise<ConnectionOverview> {
  const schedules = (await listScheduleStatus(store)).filter((s) => s.connection === connection);
  const successes = await store.db
    .selectFrom('jobs')
    .select(['kind', (eb) => eb.fn.max('finished_at').as('at')])
    .where('connection', '=', connection)
    .where('state', '=', 'succeeded')
    .where('kind', 'like', '%.poll')
    .groupBy('kind')
    .execute();
  const lastSuccess = new Map(successes.map((r) => [r.kind, r.at == null ? null : Number(r.at)]));
  const polls: PollStatus[] = schedules.map((s) => ({
    kind: s.kind,
    intervalMs: s.intervalMs,
    nextRunAt: s.nextRunAt,
    lastRunAt: s.lastEnqueuedAt,
    lastSuccessAt: lastSuccess.get(s.kind) ?? null,
    lastState: s.lastJob?.state ?? null,
    failures: s.lastJob?.failures ?? 0,
    lastError: s.lastJob?.lastError ?? null,
  }));
  const states = await store.db
    .selectFrom('jobs')
    .select(['state', (eb) => eb.fn.countAll<number>().as('n')])
    .where('connection', '=', connection)
    .groupBy('state')
    .execute();
  const queue: Record<JobState, number> = { queued: 0, running: 0, succeeded: 0, dead: 0, cancelled: 0 };
  for (const r of states) queue[r.state] = Number(r.n);
  return {
    connection,
    at: now,
    polls,
    ordersPushed: await auditCount(store, connection, 'orders', ORDER_PUSH_ACTIONS),
    shipmentsWritten: await auditCount(store, connection, 'shipments', SHIPMENT_WRITE_ACTIONS),
    queue,
    throughput: await hourlyThroughput(store, connection, now),
    health: await systemHealth(store, connection),
  };
}

/** ShipStation budgets (every key on the store; a key is a fingerprint, shared by connections on one account). */
export async function listBudgetRows(store: Store) {
  return store.db.selectFrom('rate_limits').selectAll().orderBy('key').execute();
}
