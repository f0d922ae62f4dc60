/**
 * `GET /metrics` in the Prometheus text format (`text/plain; version=0.0.4`), a route module of the
 * `run` server (`createHttpServer`'s `routes`). Its own prom-client `Registry` (never the global
 * one), so two servers in one process (tests) do not share series.
 *
 * Everything but the process metrics is read from the store on scrape: every process on one
 * PostgreSQL database reports the same shared truth, and nothing is wired into the flows. A scrape
 * runs a few grouped queries, at most once per `cacheMs` (default 5 s; concurrent scrapes share one
 * read), so a tight scrape loop does not load the store:
 *
 * - `mlc_jobs{kind,state}`: jobs per kind and state (every state of a kind present, 0 included);
 *   dead jobs are `state="dead"`.
 * - `mlc_job_oldest_queued_seconds{kind}`: age of the oldest queued job that is due (`run_at` passed;
 *   a job waiting out its retry backoff is not late).
 * - `mlc_poll_last_success_timestamp_seconds{connection,kind}`: when a poll job of the schedule last
 *   succeeded (0: no success on record; finished jobs are purged after `retention.finishedJobs`).
 * - `mlc_poll_failures{connection,kind}`: failed attempts of the schedule's current poll job (0 when
 *   it succeeded); `mlc_poll_last_enqueued_timestamp_seconds{connection,kind}`.
 * - `mlc_records_total{connection,flow,action,outcome}`: audit rows, i.e. records pushed, written,
 *   skipped and failed (outcome `error`, the action naming the cause). A gauge of totals from the
 *   store, not a prom-client counter; it only grows (audit is append-only), so `rate()` works. The
 *   audit table is never purged, so it is counted incrementally: rows up to a settled id are counted
 *   once and kept, only newer rows are counted on each scrape (see docs/decisions.md "Metrics").
 * - `mlc_shipstation_budget_remaining{key}` / `mlc_shipstation_budget_limit{key}`: requests the key
 *   may still send in its window (`rate_limits`: our sends in the window, what the server said
 *   remains, a 429 block), the key being the credentials' fingerprint, never the key itself.
 * - `mlc_webhook_inbox_rows`: webhook events acknowledged and not yet moved into jobs (the inbox,
 *   every process's on PostgreSQL); with `inbox` (the receiver of this process):
 *   `mlc_webhook_inbox_limit` (`http.webhookInboxLimit`, 0 = none), `mlc_webhook_inbox_full` (1 while
 *   webhooks are answered 503 for it), `mlc_webhook_inbox_refused` (those 503s since start),
 *   `mlc_webhook_inbox_failing_drains` (drains failed in a row) and
 *   `mlc_webhook_inbox_dead_lettered` (rows kept as dead jobs since start).
 * - `mlc_syspro_call_duration_seconds` / `mlc_shipstation_call_duration_seconds` when the run passes
 *   `calls` (`sync/call-metrics.ts`): histograms of this process's own calls, in memory.
 * - prom-client's default process metrics (`process_*`, `nodejs_*`).
 *
 * No login yet (the dashboard's comes later): it binds where `http.host` binds.
 */
import type { FastifyInstance } from 'fastify';
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { type Clock, systemClock } from '../clock.js';
import { POLL_KINDS } from '../engine/scheduler.js';
import { redactCredentials } from '../logger.js';
import { defaultSafetyMs } from '../shipstation/rate-budget.js';
import type { JobState } from '../store/database.js';
import { listScheduleStatus } from '../store/jobs/queries.js';
import type { Store } from '../store/open.js';
import { inboxSize } from '../store/webhook-inbox.js';
import type { CallMetrics } from '../sync/call-metrics.js';
import type { WebhookInboxStatus } from './webhooks.js';

export const METRICS_CACHE_MS = 5000;
/** Audit rows this far below the highest id are settled: counted once, then kept in memory. */
export const AUDIT_SETTLE_ROWS = 1000;

const JOB_STATES: readonly JobState[] = ['queued', 'running', 'succeeded', 'dead', 'cancelled'];
const POLL_KIND_LIST: readonly string[] = Object.values(POLL_KINDS);

export interface MetricsOptions {
  store: Store;
  /** The time budgets and job ages are measured on (the database's, in `run`). */
  clock?: Clock;
  /** Default `METRICS_CACHE_MS`. */
  cacheMs?: number;
  /** Default `AUDIT_SETTLE_ROWS`. */
  auditSettleRows?: number;
  /** Call latency histograms fed by the clients (omitted: not exposed). */
  calls?: CallMetrics;
  /** Default true; tests of exact output turn it off. */
  processMetrics?: boolean;
  /** The webhook receiver's inbox state (`WebhookRoutes.inboxStatus`), read at each scrape. */
  inbox?: () => WebhookInboxStatus;
}

interface Snapshot {
  jobs: { kind: string; state: JobState; count: number }[];
  oldestDue: { kind: string; runAt: number }[];
  polls: {
    connection: string;
    kind: string;
    lastSuccess: number | null;
    failures: number;
    lastEnqueued: number | null;
  }[];
  records: Map<string, { labels: AuditLabels; count: number }>;
  budgets: { key: string; remaining: number; limit: number }[];
  inboxRows: number;
  at: number;
}

interface AuditLabels {
  connection: string;
  flow: string;
  action: string;
  outcome: string;
}

/** The store-reading side of `/metrics`, usable without Fastify (`read()` is the cached snapshot). */
export class StoreMetrics {
  readonly registry = new Registry();
  /** Store reads done (one per snapshot taken); tests check the cache with it. */
  reads = 0;
  readonly #o: Required<Omit<MetricsOptions, 'calls' | 'processMetrics' | 'inbox'>>;
  readonly #inbox: (() => WebhookInboxStatus) | undefined;
  #cached: { at: number; snapshot: Promise<Snapshot> } | undefined;
  #inFlight: Promise<Snapshot> | undefined;
  /** Audit rows with id ≤ `settledId`, counted once. */
  #settledId = 0;
  readonly #settled = new Map<string, { labels: AuditLabels; count: number }>();

  readonly #jobs: Gauge;
  readonly #oldest: Gauge;
  readonly #pollSuccess: Gauge;
  readonly #pollFailures: Gauge;
  readonly #pollEnqueued: Gauge;
  readonly #records: Gauge;
  readonly #budget: Gauge;
  readonly #budgetLimit: Gauge;
  readonly #inboxRows: Gauge;
  readonly #inboxGauges: Record<'limit' | 'full' | 'refused' | 'failing' | 'dead', Gauge> | undefined;

  constructor(options: MetricsOptions) {
    this.#inbox = options.inbox;
    this.#o = {
      store: options.store,
      clock: options.clock ?? systemClock,
      cacheMs: options.cacheMs ?? METRICS_CACHE_MS,
      auditSettleRows: options.auditSettleRows ?? AUDIT_SETTLE_ROWS,
    };
    const registers = [this.registry];
    this.#jobs = new Gauge({
      name: 'mlc_jobs',
      help: 'Jobs in the store by kind and state (dead jobs: state="dead")',
      labelNames: ['kind', 'state'],
      registers,
    });
    this.#oldest = new Gauge({
      name: 'mlc_job_oldest_queued_seconds',
      help: 'Age of the oldest queued job that is due, by kind (0: none waiting)',
      labelNames: ['kind'],
      registers,
    });
    this.#pollSuccess = new Gauge({
      name: 'mlc_poll_last_success_timestamp_seconds',
      help: 'When a poll of the schedule last succeeded (0: none on record)',
      labelNames: ['connection', 'kind'],
      registers,
    });
    this.#pollFailures = new Gauge({
      name: 'mlc_poll_failures',
      help: 'Failed attempts of the current poll job of the schedule (0 once it succeeds)',
      labelNames: ['connection', 'kind'],
      registers,
    });
    this.#pollEnqueued = new Gauge({
      name: 'mlc_poll_last_enqueued_timestamp_seconds',
      help: 'When the schedule last enqueued its poll (0: never)',
      labelNames: ['connection', 'kind'],
      registers,
    });
    this.#records = new Gauge({
      name: 'mlc_records_total',
      help: 'Audit rows (records pushed, written, skipped, failed) by connection, flow, action and outcome',
      labelNames: ['connection', 'flow', 'action', 'outcome'],
      registers,
    });
    this.#budget = new Gauge({
      name: 'mlc_shipstation_budget_remaining',
      help: 'Requests the ShipStation key (credentials fingerprint) may still send in its window',
      labelNames: ['key'],
      registers,
    });
    this.#budgetLimit = new Gauge({
      name: 'mlc_shipstation_budget_limit',
      help: 'Requests per window of the ShipStation key (as the server last said, else configured)',
      labelNames: ['key'],
      registers,
    });
    const statements = options.store.statements;
    if (statements) {
      // Native memory outside V8's heap: bounded by SQLITE_STATEMENT_CACHE_BYTES (sqlite-statements.ts).
      new Gauge({
        name: 'mlc_sqlite_statement_cache_bytes',
        help: 'Estimated native memory of the prepared SQLite statements kept for reuse',
        registers,
        collect() {
          this.set(statements.cachedBytes);
        },
      });
    }
    this.#inboxRows = new Gauge({
      name: 'mlc_webhook_inbox_rows',
      help: 'Webhook events acknowledged and not yet moved into jobs (the inbox, all processes)',
      registers,
    });
    if (this.#inbox) {
      const gauge = (name: string, help: string) => new Gauge({ name, help, registers });
      this.#inboxGauges = {
        limit: gauge(
          'mlc_webhook_inbox_limit',
          'http.webhookInboxLimit: inbox rows beyond which webhooks get 503 (0: none)',
        ),
        full: gauge(
          'mlc_webhook_inbox_full',
          '1 while this process answers webhooks 503 because the inbox is full',
        ),
        refused: gauge(
          'mlc_webhook_inbox_refused',
          'Webhooks this process answered 503 for a full inbox since it started',
        ),
        failing: gauge(
          'mlc_webhook_inbox_failing_drains',
          'Inbox drains of this process that failed in a row (0: the last one moved)',
        ),
        dead: gauge(
          'mlc_webhook_inbox_dead_lettered',
          'Inbox rows this process kept as dead jobs since it started (they could not become jobs)',
        ),
      };
    }
  }

  /** The snapshot of the store, read again only when the cached one is older than `cacheMs`. */
  read(): Promise<Snapshot> {
    const now = this.#o.clock.now();
    // A read still running is shared whatever its age: two at once would fold the same audit rows
    // into the settled counts twice.
    if (this.#inFlight) return this.#inFlight;
    const cached = this.#cached;
    if (cached && now >= cached.at && now - cached.at < this.#o.cacheMs) return cached.snapshot;
    const snapshot = this.#readStore(now);
    this.#inFlight = snapshot;
    // A failed read is not cached: the next scrape tries again.
    snapshot.then(
      () => {
        this.#cached = { at: now, snapshot };
        this.#inFlight = undefined;
      },
      () => {
        this.#inFlight = undefined;
      },
    );
    return snapshot;
  }

  /** Reads the store (cached) and sets every gauge from it. */
  async update(): Promise<void> {
    const s = await this.read();
    this.#jobs.reset();
    const kinds = new Set(s.jobs.map((j) => j.kind));
    for (const kind of kinds) for (const state of JOB_STATES) this.#jobs.set({ kind, state }, 0);
    for (const j of s.jobs) this.#jobs.set({ kind: j.kind, state: j.state }, j.count);
    this.#oldest.reset();
    for (const kind of kinds) this.#oldest.set({ kind }, 0);
    for (const o of s.oldestDue) this.#oldest.set({ kind: o.kind }, Math.max(0, (s.at - o.runAt) / 1000));
    this.#pollSuccess.reset();
    this.#pollFailures.reset();
    this.#pollEnqueued.reset();
    for (const p of s.polls) {
      const labels = { connection: p.connection, kind: p.kind };
      this.#pollSuccess.set(labels, p.lastSuccess === null ? 0 : p.lastSuccess / 1000);
      this.#pollFailures.set(labels, p.failures);
      this.#pollEnqueued.set(labels, p.lastEnqueued === null ? 0 : p.lastEnqueued / 1000);
    }
    this.#records.reset();
    for (const { labels, count } of s.records.values()) this.#records.set({ ...labels }, count);
    this.#budget.reset();
    this.#budgetLimit.reset();
    for (const b of s.budgets) {
      this.#budget.set({ key: b.key }, b.remaining);
      this.#budgetLimit.set({ key: b.key }, b.limit);
    }
    this.#inboxRows.set(s.inboxRows);
    if (this.#inbox && this.#inboxGauges) {
      const status = this.#inbox();
      this.#inboxGauges.limit.set(status.limit);
      this.#inboxGauges.full.set(status.state === 'full' ? 1 : 0);
      this.#inboxGauges.refused.set(status.refused);
      this.#inboxGauges.failing.set(status.failingDrains);
      this.#inboxGauges.dead.set(status.deadLettered);
    }
  }

  async #readStore(now: number): Promise<Snapshot> {
    this.reads += 1;
    const db = this.#o.store.db;
    const jobRows = await db
      .selectFrom('jobs')
      .select(['kind', 'state', (eb) => eb.fn.countAll<number>().as('count')])
      .groupBy(['kind', 'state'])
      .execute();
    const oldestRows = await db
      .selectFrom('jobs')
      .select(['kind', (eb) => eb.fn.min<number>('run_at').as('run_at')])
      .where('state', '=', 'queued')
      .where('run_at', '<=', now)
      .groupBy('kind')
      .execute();
    const successRows = await db
      .selectFrom('jobs')
      .select(['connection', 'kind', (eb) => eb.fn.max<number>('finished_at').as('finished_at')])
      .where('state', '=', 'succeeded')
      .where('kind', 'in', POLL_KIND_LIST)
      .groupBy(['connection', 'kind'])
      .execute();
    const lastSuccess = new Map(successRows.map((r) => [`${r.connection}\u0000${r.kind}`, r.finished_at]));
    const schedules = await listScheduleStatus(this.#o.store);
    const records = await this.#auditCounts();
    const budgetRows = await db.selectFrom('rate_limits').selectAll().orderBy('key').execute();
    const inboxRows = await inboxSize(this.#o.store);
    return {
      inboxRows,
      at: now,
      jobs: jobRows.map((r) => ({ kind: r.kind, state: r.state, count: Number(r.count) })),
      oldestDue: oldestRows.map((r) => ({ kind: r.kind, runAt: Number(r.run_at) })),
      polls: schedules.map((s) => {
        const success = lastSuccess.get(`${s.connection}\u0000${s.kind}`);
        return {
          connection: s.connection,
          kind: s.kind,
          lastSuccess: success == null ? null : Number(success),
          failures: s.lastJob?.failures ?? 0,
          lastEnqueued: s.lastEnqueuedAt,
        };
      }),
      records,
      budgets: budgetRows.map((r) => {
        const windowMs = Number(r.window_ms);
        const limit = Number(r.window_limit);
        return { key: r.key, limit, remaining: budgetRemaining(r, limit, windowMs, now) };
      }),
    };
  }

  /**
   * Audit counts: rows up to the settled id are counted once and kept; each read counts only the
   * rows above it, and moves the settled id up to `auditSettleRows` below the highest id (rows that
   * far back are committed: a transaction inserting audit rows is short).
   */
  async #auditCounts(): Promise<Map<string, { labels: AuditLabels; count: number }>> {
    const db = this.#o.store.db;
    const top = await db
      .selectFrom('audit')
      .select((eb) => eb.fn.max<number>('id').as('id'))
      .executeTakeFirst();
    const maxId = Number(top?.id ?? 0);
    const settleTo = Math.max(this.#settledId, maxId - this.#o.auditSettleRows);
    const grouped = (from: number, to?: number) => {
      let q = db
        .selectFrom('audit')
        .select(['connection', 'flow', 'action', 'outcome', (eb) => eb.fn.countAll<number>().as('count')])
        .where('id', '>', from);
      if (to !== undefined) q = q.where('id', '<=', to);
      return q.groupBy(['connection', 'flow', 'action', 'outcome']).execute();
    };
    if (settleTo > this.#settledId) {
      addCounts(this.#settled, await grouped(this.#settledId, settleTo));
      this.#settledId = settleTo;
    }
    const result = new Map<string, { labels: AuditLabels; count: number }>();
    for (const [key, value] of this.#settled) result.set(key, { labels: value.labels, count: value.count });
    addCounts(result, await grouped(this.#settledId));
    return result;
  }
}

function addCounts(
  into: Map<string, { labels: AuditLabels; count: number }>,
  rows: { connection: string; flow: string; action: string; outcome: string; count: number }[],
): void {
  for (const r of rows) {
    const labels = { connection: r.connection, flow: r.flow, action: r.action, outcome: r.outcome };
    const key = [r.connection, r.flow, r.action, r.outcome].join('\u0000');
    const entry = into.get(key);
    if (entry) entry.count += Number(r.count);
    else into.set(key, { labels, count: Number(r.count) });
  }
}

/**
 * What a key may still send at `now`, by the rule of `shipstation/rate-budget.ts` (`trySend`): 0
 * while a 429 block holds; else the lower of the limit less our sends in the window, and what the
 * server said remains (less our sends since) while its window is open.
 */
export function budgetRemaining(
  row: {
    sent_at: string;
    server_remaining: number | null;
    server_window_end: number | null;
    blocked_until: number | null;
  },
  limit: number,
  windowMs: number,
  now: number,
): number {
  if (row.blocked_until !== null && Number(row.blocked_until) > now) return 0;
  let sentAt: unknown = [];
  try {
    sentAt = JSON.parse(row.sent_at);
  } catch {
    // A damaged row is read as no sends, as the limiter reads it.
  }
  const span = windowMs + defaultSafetyMs(windowMs);
  const recent = Array.isArray(sentAt) ? sentAt.filter((t) => typeof t === 'number' && t > now - span) : [];
  let remaining = Math.max(0, limit - recent.length);
  if (row.server_window_end !== null && now < Number(row.server_window_end) && row.server_remaining !== null)
    remaining = Math.min(remaining, Math.max(0, Number(row.server_remaining)));
  return remaining;
}

export type MetricsRoute = ((app: FastifyInstance) => void) & { storeMetrics: StoreMetrics };

/** The route module: `GET /metrics` (`storeMetrics` is exposed for tests: its `reads`). */
export function metricsRoute(options: MetricsOptions): MetricsRoute {
  const storeMetrics = new StoreMetrics(options);
  const registries = [storeMetrics.registry];
  if (options.calls) registries.push(options.calls.registry);
  if (options.processMetrics ?? true) {
    const processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
    registries.push(processRegistry);
  }
  const merged = Registry.merge(registries);
  const route = (app: FastifyInstance) => {
    app.get('/metrics', async (_request, reply) => {
      try {
        await storeMetrics.update();
      } catch (err) {
        reply.log.error({ err }, 'metrics: the store could not be read');
        return reply
          .code(503)
          .type('text/plain; charset=utf-8')
          .send(
            `# the store could not be read: ${redactCredentials(String((err as Error).message ?? err))}\n`,
          );
      }
      return reply.type(merged.contentType).send(await merged.metrics());
    });
  };
  return Object.assign(route, { storeMetrics });
}
