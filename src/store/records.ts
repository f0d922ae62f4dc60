/**
 * The Records of the dashboard and of `/api/records`: a search over the audit trail, the links and
 * the jobs by sales order, ShipStation order, shipment, tracking number or date, one row per
 * record (an order, a shipment…); and one record's whole path: every audit row in order (read,
 * mapped, sent, answered, written, with the request and response summaries the flows stored) and
 * the jobs that carried it with their attempts.
 *
 * Audit details are redacted when written (`audit.ts`); they are redacted again here on the way
 * out, so a row written before a redaction rule existed is not shown in clear either.
 */
import { sql } from 'kysely';
import { redactCredentials, redactDeep } from '../logger.js';
import type { Store } from './open.js';

export interface RecordSearch {
  /** Sales order, ShipStation order id or number, shipment id, tracking number, or any key part. */
  q?: string;
  connection?: string;
  /** `order`, `shipment`, … */
  entityType?: string;
  /** Records with activity at or after (epoch ms). */
  from?: number;
  /** …and before (epoch ms). */
  to?: number;
  limit?: number;
}

export interface RecordSummary {
  connection: string;
  entityType: string;
  entityKey: string;
  salesOrder: string | null;
  shipstationOrder: string | null;
  trackingNumbers: string[];
  firstAt: number;
  lastAt: number;
  rows: number;
  lastAction: string;
  lastOutcome: string;
  lastError: string | null;
}

export interface RecordStep {
  id: number;
  at: number;
  flow: string;
  action: string;
  outcome: string;
  /** read, mapped, sent, answered, written, operator… (from the action). */
  stage: string;
  jobId: number | null;
  detail: unknown;
  error: string | null;
}

export interface RecordJob {
  id: number;
  kind: string;
  state: string;
  attempts: number;
  runAt: number;
  createdAt: number;
  finishedAt: number | null;
  lastError: string | null;
  inDoubt: boolean;
  history: Array<{ attempt: number; outcome: string; finishedAt: number; error: string | null }>;
}

export interface RecordPath {
  summary: RecordSummary;
  steps: RecordStep[];
  jobs: RecordJob[];
  link: { shipstationId: string | null; state: string | null; lastPushedAt: number | null } | null;
}

/** Entity types that are records (not bookkeeping such as `order.problem` or `secret`). */
export const RECORD_TYPES = ['order', 'shipment', 'customer'];

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, '\\$&');
}

/** What an audit action is, in the words of a record's path. */
export function stageOf(flow: string, action: string, outcome: string): string {
  if (flow === 'operator') return `operator: ${action}`;
  if (action === 'queue') return 'read from ShipStation';
  if (action === 'map') return outcome === 'error' ? 'mapped: cannot be sent' : 'mapped';
  if (action === 'skip') return 'read: skipped';
  if (action === 'create' || action === 'update' || action === 'push')
    return outcome === 'ok' ? 'sent to ShipStation, answered' : 'sent to ShipStation: failed';
  if (['dispatch-note', 'order-update', 'change', 'write'].includes(action))
    return outcome === 'ok'
      ? 'written to SYSPRO'
      : outcome === 'skipped'
        ? 'not written (skipped)'
        : 'written to SYSPRO: failed';
  if (action.startsWith('void')) return 'label voided';
  return action;
}

function parseJson(text: string | null): unknown {
  if (text == null) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function facts(detail: unknown): { salesOrder?: string; shipstationOrder?: string; tracking: string[] } {
  const out: { salesOrder?: string; shipstationOrder?: string; tracking: string[] } = { tracking: [] };
  if (!detail || typeof detail !== 'object') return out;
  const d = detail as Record<string, unknown>;
  const nested = [d, d.received, d.posted, d.sent, d.answer].filter(
    (x): x is Record<string, unknown> => !!x && typeof x === 'object',
  );
  for (const n of nested) {
    if (!out.salesOrder && typeof n.salesOrder === 'string') out.salesOrder = n.salesOrder;
    if (!out.shipstationOrder && (typeof n.orderId === 'number' || typeof n.orderId === 'string'))
      out.shipstationOrder = String(n.orderId);
    if (Array.isArray(n.trackingNumbers)) for (const t of n.trackingNumbers) out.tracking.push(String(t));
    if (typeof n.trackingNumber === 'string') out.tracking.push(n.trackingNumber);
  }
  return out;
}

type AuditRow = {
  id: number;
  at: number;
  connection: string;
  flow: string;
  entity_type: string;
  entity_key: string;
  action: string;
  outcome: string;
  job_id: number | null;
  detail: string | null;
  error: string | null;
};

function summarize(
  connection: string,
  entityType: string,
  entityKey: string,
  rows: AuditRow[],
): RecordSummary {
  const sorted = [...rows].sort((a, b) => Number(a.id) - Number(b.id));
  let salesOrder: string | null = null;
  let shipstationOrder: string | null = null;
  const tracking = new Set<string>();
  for (const r of sorted) {
    const f = facts(parseJson(r.detail));
    salesOrder ??= f.salesOrder ?? null;
    shipstationOrder ??= f.shipstationOrder ?? null;
    for (const t of f.tracking) tracking.add(t);
  }
  if (!salesOrder && entityType === 'order') salesOrder = entityKey.slice(entityKey.indexOf(':') + 1);
  const last = [...sorted].reverse().find((r) => r.flow !== 'operator') ?? sorted[sorted.length - 1];
  return {
    connection,
    entityType,
    entityKey,
    salesOrder,
    shipstationOrder,
    trackingNumbers: [...tracking],
    firstAt: Number(sorted[0]?.at ?? 0),
    lastAt: Number(sorted[sorted.length - 1]?.at ?? 0),
    rows: sorted.length,
    lastAction: last?.action ?? '',
    lastOutcome: last?.outcome ?? '',
    lastError: last?.outcome === 'error' ? redactCredentials(last.error ?? '') : null,
  };
}

/** Records matching a search, most recently active first. */
export async function searchRecords(store: Store, search: RecordSearch): Promise<RecordSummary[]> {
  const limit = Math.min(search.limit ?? 100, 5000);
  let q = store.db
    .selectFrom('audit')
    .select(['connection', 'entity_type', 'entity_key', (eb) => eb.fn.max('at').as('last')])
    .where('entity_type', 'in', search.entityType ? [search.entityType] : RECORD_TYPES);
  if (search.connection) q = q.where('connection', '=', search.connection);
  if (search.from !== undefined) q = q.where('at', '>=', search.from);
  if (search.to !== undefined) q = q.where('at', '<', search.to);
  const text = search.q?.trim();
  if (text) {
    // Whole values only: a key ending in the text (`SANDBOX:000002`, `shipment:300000001`), or the
    // text as a whole JSON value in a detail (a tracking number, an order id), never a part of a
    // longer number (`000002` inside a customer code).
    const t = escapeLike(text.toLowerCase());
    const linked = store.db.selectFrom('links').select('syspro_key').where('shipstation_id', '=', text);
    const like = (column: string, pattern: string) =>
      sql<boolean>`lower(${sql.ref(column)}) like ${pattern} escape '\\'`;
    q = q.where((eb) =>
      eb.or([
        eb('entity_key', '=', text),
        like('entity_key', `%:${t}`),
        like('detail', `%"${t}"%`),
        like('detail', `%:${t},%`),
        like('detail', `%:${t}}%`),
        like('detail', `%[${t}]%`),
        like('detail', `%[${t},%`),
        like('detail', `%,${t}]%`),
        eb('entity_key', 'in', linked),
      ]),
    );
  }
  const keys = await q
    .groupBy(['connection', 'entity_type', 'entity_key'])
    .orderBy('last', 'desc')
    .limit(limit)
    .execute();
  const out: RecordSummary[] = [];
  for (let i = 0; i < keys.length; i += 200) {
    const part = keys.slice(i, i + 200);
    const rows = (await store.db
      .selectFrom('audit')
      .selectAll()
      .where('entity_key', 'in', [...new Set(part.map((k) => k.entity_key))])
      .execute()) as AuditRow[];
    const byKey = new Map<string, AuditRow[]>();
    for (const r of rows) {
      const k = `${r.connection}\u0000${r.entity_type}\u0000${r.entity_key}`;
      byKey.set(k, [...(byKey.get(k) ?? []), r]);
    }
    for (const k of part) {
      const own = byKey.get(`${k.connection}\u0000${k.entity_type}\u0000${k.entity_key}`) ?? [];
      out.push(summarize(k.connection, k.entity_type, k.entity_key, own));
    }
  }
  return out;
}

/** The idempotency key of the job that carries a record (the flows' own key shapes). */
function jobKeyOf(connection: string, entityType: string, entityKey: string): string | undefined {
  if (entityType === 'order') return `orders.push:${connection}:${entityKey}`;
  if (entityType === 'shipment') return `shipments.writeback:${connection}:${entityKey}`;
  return undefined;
}

/** One record's whole path, or undefined when the audit has no row of it. */
export async function recordPath(
  store: Store,
  connection: string,
  entityType: string,
  entityKey: string,
): Promise<RecordPath | undefined> {
  const rows = (await store.db
    .selectFrom('audit')
    .selectAll()
    .where('connection', '=', connection)
    .where('entity_type', '=', entityType)
    .where('entity_key', '=', entityKey)
    .orderBy('id', 'asc')
    .limit(2000)
    .execute()) as AuditRow[];
  if (rows.length === 0) return undefined;
  const steps: RecordStep[] = rows.map((r) => ({
    id: Number(r.id),
    at: Number(r.at),
    flow: r.flow,
    action: r.action,
    outcome: r.outcome,
    stage: stageOf(r.flow, r.action, r.outcome),
    jobId: r.job_id == null ? null : Number(r.job_id),
    detail: redactDeep(parseJson(r.detail)),
    error: r.error == null ? null : redactCredentials(r.error),
  }));
  const jobIds = new Set<number>();
  for (const s of steps) {
    if (s.jobId !== null) jobIds.add(s.jobId);
    const w = (s.detail as { writeJobId?: unknown } | null)?.writeJobId;
    if (typeof w === 'number') jobIds.add(w);
  }
  const key = jobKeyOf(connection, entityType, entityKey);
  let jq = store.db.selectFrom('jobs').selectAll();
  jq = jq.where((eb) =>
    eb.or([
      eb('id', 'in', jobIds.size > 0 ? [...jobIds] : [-1]),
      ...(key ? [eb('idempotency_key', '=', key)] : []),
    ]),
  );
  const jobRows = await jq.orderBy('id', 'asc').execute();
  const attempts =
    jobRows.length === 0
      ? []
      : await store.db
          .selectFrom('job_attempts')
          .selectAll()
          .where(
            'job_id',
            'in',
            jobRows.map((j) => Number(j.id)),
          )
          .orderBy('id', 'asc')
          .execute();
  const jobs: RecordJob[] = jobRows.map((j) => ({
    id: Number(j.id),
    kind: j.kind,
    state: j.state,
    attempts: Number(j.attempts),
    runAt: Number(j.run_at),
    createdAt: Number(j.created_at),
    finishedAt: j.finished_at == null ? null : Number(j.finished_at),
    lastError: j.last_error == null ? null : redactCredentials(j.last_error),
    inDoubt: j.in_doubt != null,
    history: attempts
      .filter((a) => Number(a.job_id) === Number(j.id))
      .map((a) => ({
        attempt: Number(a.attempt),
        outcome: a.outcome,
        finishedAt: Number(a.finished_at),
        error: a.error == null ? null : redactCredentials(a.error),
      })),
  }));
  const linkRow = await store.db
    .selectFrom('links')
    .select(['shipstation_id', 'state', 'last_pushed_at'])
    .where('connection', '=', connection)
    .where('entity_type', '=', entityType)
    .where('syspro_key', '=', entityKey)
    .executeTakeFirst();
  return {
    summary: summarize(connection, entityType, entityKey, rows),
    steps,
    jobs,
    link: linkRow
      ? {
          shipstationId: linkRow.shipstation_id,
          state: linkRow.state ?? null,
          lastPushedAt: linkRow.last_pushed_at == null ? null : Number(linkRow.last_pushed_at),
        }
      : null,
  };
}

/** A search as CSV (RFC 4180: CRLF, fields quoted when needed; formulas defused for spreadsheets). */
export function recordsCsv(records: RecordSummary[]): string {
  const header = [
    'connection',
    'type',
    'key',
    'sales_order',
    'shipstation_order',
    'tracking_numbers',
    'first_at',
    'last_at',
    'last_action',
    'last_outcome',
    'last_error',
  ];
  const field = (v: string) => {
    const safe = /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
    return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
  };
  const lines = [header.join(',')];
  for (const r of records)
    lines.push(
      [
        r.connection,
        r.entityType,
        r.entityKey,
        r.salesOrder ?? '',
        r.shipstationOrder ?? '',
        r.trackingNumbers.join(' '),
        new Date(r.firstAt).toISOString(),
        new Date(r.lastAt).toISOString(),
        r.lastAction,
        r.lastOutcome,
        r.lastError ?? '',
      ]
        .map(field)
        .join(','),
    );
  return `${lines.join('\r\n')}\r\n`;
}
