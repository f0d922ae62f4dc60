/**
 * The Problems of the dashboard and of `/api/problems`: every job that failed and waits for its
 * next retry, every dead job, every job in doubt, and every record the connector cannot send as it
 * is (an order that cannot be mapped, `links.state = 'invalid'`), in plain words and grouped by
 * cause, so that 300 shipments refused for one closed posting period are one line, not 300.
 *
 * The cause of a problem is its job kind, its state and its message with what differs from record
 * to record taken out (numbers, quoted values: see `causeOf`); the group's id is a short hash of
 * the cause, stable between page loads, so "Retry all" and "Dismiss all" of one line act on the
 * problems of that cause as they are when the button is pressed.
 *
 * Retry: a dead job is replayed (`replayJobs`, which refuses superseded or duplicate work); a job
 * waiting for its next retry is made due now. Dismiss: the job is cancelled (it stops retrying) and
 * a `dismissals` row keeps who, why and the problem as it read; a record is hidden while its
 * problems stay those dismissed. Both write an audit row (`flow` `operator`).
 *
 * Problems clear themselves once fixed: an order's record problem when the order maps again or is
 * pushed (`resolveOrderProblems`), a dead job when a newer job with its key succeeded (the same
 * order pushed, the same shipment written back: `findSuperseding`).
 */
import { createHash } from 'node:crypto';
import { appendAudit } from './audit.js';
import type { JobState } from './database.js';
import { findSuperseding, replayJobs } from './jobs/replay.js';
import { withWriteTransaction } from './jobs/transaction.js';
import type { Store } from './open.js';

export type ProblemState = 'retrying' | 'dead' | 'in-doubt' | 'invalid';

export interface ProblemSubject {
  /** `order`, `shipment`, `poll`, or the job kind. */
  type: string;
  /** Plain words: "sales order 000123", "ShipStation shipment 300000001". */
  label: string;
  salesOrder?: string;
  shipstationOrder?: string;
  shipment?: string;
  trackingNumbers?: string[];
  /** The record key the Records page shows it under (`entity_type` / `entity_key` of the audit). */
  record?: { entityType: string; entityKey: string };
}

export interface Problem {
  /** `job:<id>` or `record:<entity type>:<key>`. */
  id: string;
  connection: string;
  jobId: number | null;
  jobKind: string | null;
  state: ProblemState;
  /** What failed, in plain words ("Writing shipment … back to SYSPRO"). */
  what: string;
  subject: ProblemSubject;
  /** SYSPRO's or ShipStation's own message (the job's last error, the mapping problems). */
  message: string;
  attempts: number;
  /** When it runs again (a job waiting for a retry), else null. */
  nextRetryAt: number | null;
  /** When it last changed. */
  at: number;
  /** The write may have taken effect: the next attempt checks the target before sending again. */
  inDoubt: boolean;
  cause: string;
  causeId: string;
}

export interface ProblemGroup {
  causeId: string;
  cause: string;
  connection: string;
  jobKind: string | null;
  state: ProblemState;
  what: string;
  /** The first problem's own message, as an example of the group's. */
  message: string;
  count: number;
  firstAt: number;
  lastAt: number;
  /** Retry applies (jobs); an invalid record is fixed at its source instead. */
  retryable: boolean;
  /** The group's problems, newest first (all of them; pages cut them down). */
  problems: Problem[];
}

export interface ProblemFilter {
  connection?: string;
  /** Job kind, or `record` for invalid records. */
  kind?: string;
  state?: ProblemState;
  /** Only the group with this id. */
  causeId?: string;
  /** Substring of the message or the subject (case-insensitive). */
  text?: string;
}

/** How many problem jobs one listing reads at most (the groups say when there were more). */
export const PROBLEM_SCAN_LIMIT = 20_000;

const WHAT: Record<string, (s: ProblemSubject) => string> = {
  'orders.push': (s) => `Sending ${s.label} to ShipStation`,
  'shipments.writeback': (s) => `Writing ${s.label} back to SYSPRO`,
  'orders.poll': () => 'Reading sales orders from SYSPRO',
  'customers.poll': () => 'Reading customers from SYSPRO',
  'shipments.poll': () => 'Reading shipments from ShipStation',
  'inventory.poll': () => 'Reading stock levels from SYSPRO',
};

function parseJson(text: string | null): unknown {
  if (text == null) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** Who or what a job is about, from its payload (the flows' own payload shapes). */
export function subjectOfJob(kind: string, payloadText: string): ProblemSubject {
  const p = (parseJson(payloadText) ?? {}) as Record<string, unknown>;
  const str = (v: unknown) =>
    typeof v === 'string' && v !== '' ? v : typeof v === 'number' ? String(v) : undefined;
  const salesOrder = str(p.salesOrder);
  if (kind === 'shipments.writeback') {
    const source = str(p.source) ?? 'shipment';
    const id = str(p.id);
    const tracking = Array.isArray(p.trackingNumbers) ? p.trackingNumbers.map(String) : [];
    const label = `ShipStation ${source} ${id ?? '?'}${salesOrder ? ` for sales order ${salesOrder}` : ''}${tracking.length > 0 ? ` (tracking ${tracking.join(', ')})` : ''}`;
    return {
      type: 'shipment',
      label,
      ...(salesOrder ? { salesOrder } : {}),
      ...(str(p.orderId) ? { shipstationOrder: str(p.orderId) } : {}),
      ...(id ? { shipment: `${source}:${id}` } : {}),
      trackingNumbers: tracking,
      ...(id ? { record: { entityType: 'shipment', entityKey: `${source}:${id}` } } : {}),
    };
  }
  if (kind.startsWith('orders.') && salesOrder) {
    const orderKey = str(p.orderKey);
    return {
      type: 'order',
      label: `sales order ${salesOrder}`,
      salesOrder,
      ...(orderKey ? { record: { entityType: 'order', entityKey: orderKey } } : {}),
    };
  }
  if (kind.endsWith('.poll')) return { type: 'poll', label: kind.replace('.poll', ' poll') };
  return { type: kind, label: kind };
}

/**
 * The message with what differs between records of one cause taken out: quoted values, numbers
 * (order numbers, ids, dates), e-mail addresses. Pure.
 */
export function causeOf(jobKind: string | null, state: ProblemState, message: string): string {
  const general = message
    .replace(/'[^']*'|"[^"]*"|‘[^’]*’|“[^”]*”/g, '…')
    .replace(/\S+@\S+\.\w+/g, '…')
    .replace(/\d+([.:/-]\d+)*/g, '#')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 300);
  // A retry and a death of one cause are different lines: one needs waiting, the other an action.
  return `${jobKind ?? 'record'} · ${state === 'in-doubt' ? 'in-doubt' : state} · ${general}`;
}

export function causeIdOf(connection: string, cause: string): string {
  return createHash('sha256').update(`${connection}\u0000${cause}`).digest('hex').slice(0, 12);
}

function problemStateOf(state: JobState, inDoubt: boolean): ProblemState {
  if (inDoubt) return 'in-doubt';
  return state === 'dead' ? 'dead' : 'retrying';
}

/** The jobs that are problems: dead, or queued again after a failure, or in doubt. */
async function problemJobs(store: Store, filter: ProblemFilter): Promise<Problem[]> {
  let q = store.db
    .selectFrom('jobs')
    .select([
      'id',
      'kind',
      'connection',
      'payload',
      'state',
      'run_at',
      'attempts',
      'last_error',
      'in_doubt',
      'updated_at',
      'lost_leases',
      'idempotency_key',
    ])
    .where((eb) =>
      eb.or([
        eb('state', '=', 'dead'),
        eb.and([eb('state', '=', 'queued'), eb('attempts', '>', 0), eb('last_error', 'is not', null)]),
        eb.and([eb('state', '=', 'queued'), eb('in_doubt', 'is not', null)]),
      ]),
    );
  if (filter.connection) q = q.where('connection', '=', filter.connection);
  if (filter.kind && filter.kind !== 'record') q = q.where('kind', '=', filter.kind);
  const found = await q.orderBy('id', 'desc').limit(PROBLEM_SCAN_LIMIT).execute();
  // A dead job whose work a newer job with the same key has done since (a write-back of the same
  // shipment, a push of the same order, that succeeded) is no longer a problem: `replay` refuses it.
  const superseded = await findSuperseding(
    store,
    found.filter((r) => r.state === 'dead').map((r) => ({ id: Number(r.id), key: r.idempotency_key })),
  );
  const rows = found.filter((r) => !superseded.has(Number(r.id)));
  return rows.map((r) => {
    const inDoubt = r.in_doubt != null;
    const state = problemStateOf(r.state, inDoubt);
    const subject = subjectOfJob(r.kind, r.payload);
    const message =
      r.last_error ?? (parseJson(r.in_doubt) as { error?: string } | null)?.error ?? '(no message)';
    const cause = causeOf(r.kind, state, message);
    return {
      id: `job:${r.id}`,
      connection: r.connection,
      jobId: Number(r.id),
      jobKind: r.kind,
      state,
      what: (WHAT[r.kind] ?? ((s: ProblemSubject) => `${r.kind} for ${s.label}`))(subject),
      subject,
      message,
      attempts: Number(r.attempts),
      nextRetryAt: r.state === 'queued' ? Number(r.run_at) : null,
      at: Number(r.updated_at),
      inDoubt,
      cause,
      causeId: causeIdOf(r.connection, cause),
    };
  });
}

function hashText(text: string | null): string {
  return createHash('sha256')
    .update(text ?? '')
    .digest('hex')
    .slice(0, 16);
}

/**
 * Orders that cannot be mapped (links `order.problem` in state `invalid`), less the dismissed. A
 * problem the flow has since resolved (the order maps, or was pushed: state `resolved`, see
 * `resolveOrderProblems` in sync/orders.ts) is not listed; one that came back after that is listed
 * again, even when a dismissal of the same problems exists from before (a dismissal hides the
 * problem it saw: the same problems, reported no later than the dismissal).
 */
async function invalidRecords(store: Store, filter: ProblemFilter): Promise<Problem[]> {
  let q = store.db
    .selectFrom('links')
    .select(['connection', 'entity_type', 'syspro_key', 'last_hash', 'updated_at'])
    .where('state', '=', 'invalid');
  if (filter.connection) q = q.where('connection', '=', filter.connection);
  const rows = await q.orderBy('updated_at', 'desc').limit(PROBLEM_SCAN_LIMIT).execute();
  if (rows.length === 0) return [];
  /** The newest dismissal time per connection, record and problems. */
  const dismissed = new Map<string, number>();
  for (let i = 0; i < rows.length; i += 500) {
    const part = rows.slice(i, i + 500);
    const ds = await store.db
      .selectFrom('dismissals')
      .select(['connection', 'entity_type', 'entity_key', 'link_hash', 'at'])
      .where(
        'entity_key',
        'in',
        part.map((r) => r.syspro_key),
      )
      .execute();
    for (const d of ds) {
      const key = `${d.connection}\u0000${d.entity_type}\u0000${d.entity_key}\u0000${d.link_hash}`;
      dismissed.set(key, Math.max(dismissed.get(key) ?? Number.NEGATIVE_INFINITY, Number(d.at)));
    }
  }
  const out: Problem[] = [];
  for (const r of rows) {
    const dismissedAt = dismissed.get(
      `${r.connection}\u0000${r.entity_type}\u0000${r.syspro_key}\u0000${hashText(r.last_hash)}`,
    );
    if (dismissedAt !== undefined && dismissedAt >= Number(r.updated_at)) continue;
    const problems = parseJson(r.last_hash);
    const message = Array.isArray(problems)
      ? problems
          .map((p: { field?: string; message?: string }) => `${p.field ?? ''}: ${p.message ?? ''}`)
          .join('; ')
      : (r.last_hash ?? 'cannot be sent');
    const salesOrder = r.syspro_key.includes(':')
      ? r.syspro_key.slice(r.syspro_key.indexOf(':') + 1)
      : r.syspro_key;
    const cause = causeOf(null, 'invalid', message);
    // Problems with field `shipstation` are orders split in ShipStation (sync/orders.ts SPLIT_PROBLEM_FIELD).
    const inShipStation =
      Array.isArray(problems) &&
      problems.length > 0 &&
      problems.every((p: { field?: string }) => p.field === 'shipstation');
    out.push({
      id: `record:${r.entity_type}:${r.syspro_key}`,
      connection: r.connection,
      jobId: null,
      jobKind: null,
      state: 'invalid',
      what: inShipStation
        ? `Sales order ${salesOrder} was split in ShipStation (or lines taken out there): SYSPRO changes to it are not sent; make them in ShipStation by hand, then dismiss this`
        : `Sales order ${salesOrder} cannot be sent to ShipStation: correct it in SYSPRO, the next poll sends it`,
      subject: {
        type: 'order',
        label: `sales order ${salesOrder}`,
        salesOrder,
        record: { entityType: 'order', entityKey: r.syspro_key },
      },
      message,
      attempts: 0,
      nextRetryAt: null,
      at: Number(r.updated_at),
      inDoubt: false,
      cause,
      causeId: causeIdOf(r.connection, cause),
    });
  }
  return out;
}

/** Every problem matching `filter`, newest first. */
export async function listProblems(store: Store, filter: ProblemFilter = {}): Promise<Problem[]> {
  const jobs = filter.kind === 'record' ? [] : await problemJobs(store, filter);
  const records = filter.kind && filter.kind !== 'record' ? [] : await invalidRecords(store, filter);
  const text = filter.text?.toLowerCase();
  return [...jobs, ...records]
    .filter((p) => !filter.state || p.state === filter.state)
    .filter((p) => !filter.causeId || p.causeId === filter.causeId)
    .filter(
      (p) =>
        !text ||
        p.message.toLowerCase().includes(text) ||
        p.subject.label.toLowerCase().includes(text) ||
        p.what.toLowerCase().includes(text),
    )
    .sort((a, b) => b.at - a.at);
}

/** Problems grouped by cause (pure): the biggest and then the newest groups first. */
export function groupProblems(problems: Problem[]): ProblemGroup[] {
  const groups = new Map<string, ProblemGroup>();
  for (const p of problems) {
    let g = groups.get(p.causeId);
    if (!g) {
      g = {
        causeId: p.causeId,
        cause: p.cause,
        connection: p.connection,
        jobKind: p.jobKind,
        state: p.state,
        what: p.jobKind ? (WHAT[p.jobKind]?.({ type: '', label: plural(p.subject.type) }) ?? p.what) : p.what,
        message: p.message,
        count: 0,
        firstAt: p.at,
        lastAt: p.at,
        retryable: p.jobId !== null,
        problems: [],
      };
      groups.set(p.causeId, g);
    }
    g.count++;
    g.firstAt = Math.min(g.firstAt, p.at);
    g.lastAt = Math.max(g.lastAt, p.at);
    g.problems.push(p);
  }
  for (const g of groups.values()) {
    if (g.count === 1) g.what = g.problems[0]?.what ?? g.what;
    else if (g.state === 'invalid')
      g.what = `${g.count} sales orders cannot be sent to ShipStation: correct them in SYSPRO, the next poll sends them`;
  }
  return [...groups.values()].sort((a, b) => b.count - a.count || b.lastAt - a.lastAt);
}

function plural(type: string): string {
  if (type === 'shipment') return 'shipments';
  if (type === 'order') return 'sales orders';
  return type;
}

export interface ProblemCounts {
  retrying: number;
  dead: number;
  inDoubt: number;
  invalid: number;
}

export function countProblems(problems: Problem[]): ProblemCounts {
  const c = { retrying: 0, dead: 0, inDoubt: 0, invalid: 0 };
  for (const p of problems) {
    if (p.state === 'retrying') c.retrying++;
    else if (p.state === 'dead') c.dead++;
    else if (p.state === 'in-doubt') c.inDoubt++;
    else c.invalid++;
  }
  return c;
}

export interface RetryResult {
  /** Jobs made due now (dead ones replayed, waiting ones brought forward). */
  retried: number[];
  skipped: Array<{ id: string; reason: string }>;
  /** The job kinds retried (to wake the worker for). */
  kinds: string[];
}

/** Retries the given problems (by id: `job:<n>`; records cannot be retried, only fixed at the source). */
export async function retryProblems(
  store: Store,
  problems: Problem[],
  now: number,
  who: string,
): Promise<RetryResult> {
  const skipped: RetryResult['skipped'] = [];
  const dead: number[] = [];
  const waiting: number[] = [];
  const kinds = new Set<string>();
  for (const p of problems) {
    if (p.jobId === null) {
      skipped.push({
        id: p.id,
        reason: 'a record that cannot be mapped is corrected in SYSPRO; the next poll sends it',
      });
      continue;
    }
    if (p.state === 'dead') dead.push(p.jobId);
    else waiting.push(p.jobId);
    if (p.jobKind) kinds.add(p.jobKind);
  }
  const retried: number[] = [];
  if (dead.length > 0) {
    const r = await replayJobs(store, { ids: dead }, now);
    retried.push(...r.replayed);
    for (const s of r.skipped) skipped.push({ id: `job:${s.id}`, reason: s.reason });
  }
  for (let i = 0; i < waiting.length; i += 500) {
    const rows = await store.db
      .updateTable('jobs')
      .set({ run_at: now, updated_at: now })
      .where('id', 'in', waiting.slice(i, i + 500))
      .where('state', '=', 'queued')
      .returning('id')
      .execute();
    retried.push(...rows.map((r) => Number(r.id)));
  }
  const byId = new Map(problems.map((p) => [p.jobId, p]));
  for (const id of retried) {
    const p = byId.get(id);
    await appendAudit(store.db, {
      at: now,
      connection: p?.connection ?? '',
      flow: 'operator',
      entityType: p?.subject.record?.entityType ?? 'job',
      entityKey: p?.subject.record?.entityKey ?? String(id),
      action: 'retry',
      outcome: 'info',
      jobId: id,
      detail: { who, state: p?.state, attempts: p?.attempts },
    });
  }
  retried.sort((a, b) => a - b);
  return { retried, skipped, kinds: [...kinds] };
}

export interface DismissResult {
  dismissed: string[];
  skipped: Array<{ id: string; reason: string }>;
}

/** Dismisses the given problems: jobs are cancelled, records hidden until their problems change. */
export async function dismissProblems(
  store: Store,
  problems: Problem[],
  now: number,
  who: string,
  why: string,
): Promise<DismissResult> {
  const dismissed: string[] = [];
  const skipped: DismissResult['skipped'] = [];
  await withWriteTransaction(store, async (db) => {
    for (const p of problems) {
      if (p.jobId !== null) {
        const row = await db
          .updateTable('jobs')
          .set({
            state: 'cancelled',
            finished_at: now,
            updated_at: now,
            lease_owner: null,
            lease_expires_at: null,
          })
          .where('id', '=', p.jobId)
          .where('state', 'in', ['queued', 'dead'])
          .returning('id')
          .executeTakeFirst();
        if (!row) {
          skipped.push({ id: p.id, reason: 'the job is running or finished since' });
          continue;
        }
      } else if (p.subject.record) {
        const link = await db
          .selectFrom('links')
          .select(['last_hash', 'entity_type'])
          .where('connection', '=', p.connection)
          .where('state', '=', 'invalid')
          .where('syspro_key', '=', p.subject.record.entityKey)
          .executeTakeFirst();
        if (!link) {
          skipped.push({ id: p.id, reason: 'the record is no longer invalid' });
          continue;
        }
        await db
          .insertInto('dismissals')
          .values({
            at: now,
            connection: p.connection,
            job_id: null,
            entity_type: link.entity_type,
            entity_key: p.subject.record.entityKey,
            link_hash: hashText(link.last_hash),
            who,
            why,
            problem: p.message.slice(0, 4000),
          })
          .execute();
        await appendAudit(db, dismissAudit(p, now, who, why));
        dismissed.push(p.id);
        continue;
      }
      await db
        .insertInto('dismissals')
        .values({
          at: now,
          connection: p.connection,
          job_id: p.jobId,
          entity_type: p.subject.record?.entityType ?? null,
          entity_key: p.subject.record?.entityKey ?? null,
          link_hash: null,
          who,
          why,
          problem: p.message.slice(0, 4000),
        })
        .execute();
      await appendAudit(db, dismissAudit(p, now, who, why));
      dismissed.push(p.id);
    }
  });
  return { dismissed, skipped };
}

function dismissAudit(p: Problem, now: number, who: string, why: string) {
  return {
    at: now,
    connection: p.connection,
    flow: 'operator',
    entityType: p.subject.record?.entityType ?? 'job',
    entityKey: p.subject.record?.entityKey ?? String(p.jobId),
    action: 'dismiss',
    outcome: 'info' as const,
    jobId: p.jobId,
    detail: { who, why, state: p.state, problem: p.message.slice(0, 500) },
  };
}

export interface Dismissal {
  id: number;
  at: number;
  connection: string;
  jobId: number | null;
  entityType: string | null;
  entityKey: string | null;
  who: string;
  why: string;
  problem: string | null;
}

/** The dismissal history, newest first. */
export async function listDismissals(
  store: Store,
  filter: { connection?: string; limit?: number } = {},
): Promise<Dismissal[]> {
  let q = store.db.selectFrom('dismissals').selectAll();
  if (filter.connection) q = q.where('connection', '=', filter.connection);
  const rows = await q
    .orderBy('id', 'desc')
    .limit(filter.limit ?? 100)
    .execute();
  return rows.map((r) => ({
    id: Number(r.id),
    at: Number(r.at),
    connection: r.connection,
    jobId: r.job_id == null ? null : Number(r.job_id),
    entityType: r.entity_type,
    entityKey: r.entity_key,
    who: r.who,
    why: r.why,
    problem: r.problem,
  }));
}
