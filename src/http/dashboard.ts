/**
 * The dashboard (server-rendered HTML pages, `src/web/`) and the operator API (JSON under
 * `/api/`, described by `/api/openapi.json`) on the run server, as one route module: both call the
 * same query functions of `src/store/` (problems, records, overview), and the same login
 * (`auth.ts`). The webhook receiver and the nudge are other route modules, outside this one's
 * login, headers and body parsers.
 *
 * Every response of this module carries the security headers (a CSP without inline script or
 * style, no framing, nosniff, no referrer to other sites (same-origin: with no-referrer Chromium sends `Origin: null` on form posts), no caching of authenticated pages).
 */
import fastifyCookie from '@fastify/cookie';
import fastifyFormbody from '@fastify/formbody';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Clock } from '../clock.js';
import type { Config } from '../config/schema.js';
import { countJobsByKindAndState, getJob, listAttempts, listJobs } from '../store/jobs/queries.js';
import type { Store } from '../store/open.js';
import { connectionOverview, listBudgetRows } from '../store/overview.js';
import {
  countProblems,
  dismissProblems,
  groupProblems,
  listDismissals,
  listProblems,
  type Problem,
  type ProblemFilter,
  type ProblemState,
  retryProblems,
} from '../store/problems.js';
import { recordPath, recordsCsv, searchRecords } from '../store/records.js';
import type { CheckResult } from '../sync/ping.js';
import { webhookUrlFor } from '../sync/ping.js';
import { apiDocsPage } from '../web/api-docs.js';
import { connectionsPage } from '../web/connections.js';
import { query } from '../web/html.js';
import { type PageContext, STYLESHEET } from '../web/layout.js';
import { loginPage } from '../web/login.js';
import { overviewPage } from '../web/overview.js';
import { LISTED_PER_GROUP, problemsPage } from '../web/problems.js';
import { type RecordsForm, recordPage, recordsPage } from '../web/records.js';
import { Access, crossSite, csrfTokenOf, type Principal, safeNext, sameToken } from './auth.js';
import { budgetRemaining } from './metrics.js';
import { OPENAPI } from './openapi.js';

export interface DashboardOptions {
  config: Config;
  store: Store;
  clock: Clock;
  access: Access;
  /** Runs the ping checks of one connection ("Test connection"). */
  ping: (connection: string) => Promise<CheckResult[]>;
  /** Wakes the worker for a job kind (after a retry). */
  notify?: (kind: string) => void;
}

export const CONTENT_SECURITY_POLICY =
  "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

const PUBLIC = new Set(['/login', '/assets/dashboard.css']);

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

const PROBLEM_STATES: ProblemState[] = ['retrying', 'dead', 'in-doubt', 'invalid'];

function text(v: unknown): string | undefined {
  if (Array.isArray(v)) return text(v[0]);
  return typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined;
}

function problemFilter(source: Record<string, unknown>): ProblemFilter {
  const state = text(source.state);
  return {
    ...(text(source.connection) ? { connection: text(source.connection) } : {}),
    ...(text(source.kind) ? { kind: text(source.kind) } : {}),
    ...(state && PROBLEM_STATES.includes(state as ProblemState) ? { state: state as ProblemState } : {}),
    ...(text(source.causeId) ? { causeId: text(source.causeId) } : {}),
    ...(text(source.text) ? { text: text(source.text) } : {}),
  };
}

function dayStart(value: string | undefined): number | undefined {
  if (!value || !/^\d{4}-\d{2}-\d{2}$/.test(value)) return undefined;
  const ms = Date.parse(`${value}T00:00:00Z`);
  return Number.isFinite(ms) ? ms : undefined;
}

function recordsForm(source: Record<string, unknown>): RecordsForm {
  const form: RecordsForm = {};
  for (const k of ['q', 'connection', 'type', 'from', 'to'] as const) {
    const v = text(source[k]);
    if (v) form[k] = v.slice(0, 200);
  }
  return form;
}

function recordSearch(form: RecordsForm, limit?: number) {
  const from = dayStart(form.from);
  const to = dayStart(form.to);
  return {
    ...(form.q ? { q: form.q } : {}),
    ...(form.connection ? { connection: form.connection } : {}),
    ...(form.type ? { entityType: form.type } : {}),
    ...(from !== undefined ? { from } : {}),
    ...(to !== undefined ? { to: to + 86_400_000 } : {}),
    ...(limit ? { limit } : {}),
  };
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export function dashboardRoutes(options: DashboardOptions) {
  const { config, store, clock, access } = options;
  const connectionNames = config.connections.map((c) => c.name);
  const lastPings = new Map<string, { at: number; results: CheckResult[] }>();

  /** The problems a retry or dismiss names: ids, one cause, or everything the filter shows. */
  async function selection(body: Record<string, unknown>): Promise<Problem[]> {
    const filter = problemFilter(body);
    const ids = [body.ids, body.id].flat().filter((x): x is string => typeof x === 'string' && x !== '');
    const all = body.all === true || body.all === '1' || body.all === 'true';
    if (ids.length === 0 && !filter.causeId && !all)
      throw new HttpError(400, 'name the problems: ids, causeId, or all with a filter');
    const problems = await listProblems(store, filter);
    if (ids.length === 0) return problems;
    const wanted = new Set(ids);
    return problems.filter((p) => wanted.has(p.id));
  }

  async function retry(body: Record<string, unknown>, who: string) {
    const chosen = await selection(body);
    const result = await retryProblems(store, chosen, clock.now(), who);
    for (const kind of result.kinds) options.notify?.(kind);
    return result;
  }

  async function dismiss(body: Record<string, unknown>, who: string) {
    const why = text(body.why);
    if (!why) throw new HttpError(400, 'say why (the reason is kept in the history)');
    const chosen = await selection(body);
    return dismissProblems(store, chosen, clock.now(), who, why.slice(0, 500));
  }

  async function overviews() {
    const now = clock.now();
    const problems = await listProblems(store);
    const out = [];
    for (const name of connectionNames) {
      out.push({
        overview: await connectionOverview(store, name, now),
        problems: countProblems(problems.filter((p) => p.connection === name)),
      });
    }
    return out;
  }

  async function budgets() {
    const now = clock.now();
    return (await listBudgetRows(store)).map((r) => ({
      key: r.key,
      limit: Number(r.window_limit),
      remaining: budgetRemaining(r, Number(r.window_limit), Number(r.window_ms), now),
    }));
  }

  function settingsOf(name: string) {
    const c = config.connections.find((x) => x.name === name);
    if (!c) throw new HttpError(404, `no connection named ${name}`);
    return c;
  }

  async function ping(name: string): Promise<CheckResult[]> {
    settingsOf(name);
    const results = await options.ping(name);
    lastPings.set(name, { at: clock.now(), results });
    return results;
  }

  function ctxOf(request: FastifyRequest): PageContext {
    const session = request.principal?.session;
    const notice = session?.notice;
    if (session) session.notice = undefined;
    return {
      who: request.principal?.who ?? '',
      csrf: session?.csrf ?? '',
      now: clock.now(),
      ...(notice ? { notice } : {}),
    };
  }

  function backTo(request: FastifyRequest, reply: FastifyReply, path: string, notice: string) {
    const session = request.principal?.session;
    if (session) session.notice = notice;
    return reply.code(303).header('location', path).send();
  }

  return async (app: FastifyInstance) => {
    await app.register(fastifyCookie);
    await app.register(fastifyFormbody, { bodyLimit: 64 * 1024 });

    app.addHook('onRequest', async (_request, reply) => {
      reply.header('content-security-policy', CONTENT_SECURITY_POLICY);
      reply.header('x-frame-options', 'DENY');
      reply.header('x-content-type-options', 'nosniff');
      reply.header('referrer-policy', 'same-origin');
      reply.header('cross-origin-opener-policy', 'same-origin');
      reply.header('cross-origin-resource-policy', 'same-origin');
      reply.header('permissions-policy', 'camera=(), microphone=(), geolocation=()');
      reply.header('cache-control', 'no-store');
    });

    app.addHook('preHandler', async (request, reply) => {
      const path = request.url.split('?')[0] as string;
      const isApi = path.startsWith('/api/');
      const changes = request.method !== 'GET' && request.method !== 'HEAD';
      if (changes && crossSite(request)) {
        return reply.code(403).type('text/plain; charset=utf-8').send('Cross-site request refused.');
      }
      if (PUBLIC.has(path)) return;
      if (!access.configured) {
        if (isApi)
          return reply.code(503).send({
            error:
              'no dashboard password or API token is configured (dashboard.passwordHash, dashboard.apiTokens)',
          });
        return reply.code(303).header('location', '/login').send();
      }
      const principal = await access.principal(request);
      if (!principal) {
        if (isApi)
          return reply
            .code(401)
            .header('www-authenticate', 'Bearer realm="ml-connector"')
            .send({ error: 'log in, or send Authorization: Bearer <API token>' });
        return reply
          .code(303)
          .header('location', `/login${query({ next: request.url })}`)
          .send();
      }
      request.principal = principal;
      if (
        changes &&
        principal.via === 'session' &&
        !sameToken(csrfTokenOf(request), principal.session?.csrf ?? '')
      ) {
        if (isApi) return reply.code(403).send({ error: 'missing or wrong X-CSRF-Token' });
        return reply
          .code(403)
          .type('text/plain; charset=utf-8')
          .send('The form expired (CSRF token). Go back, reload the page and try again.');
      }
    });

    app.setErrorHandler(async (error, request, reply) => {
      const status =
        error instanceof HttpError ? error.status : ((error as { statusCode?: number }).statusCode ?? 500);
      if (status >= 500) request.log.error({ err: error }, 'dashboard: request failed');
      const message =
        status >= 500 ? 'Something went wrong reading the store; see the log.' : (error as Error).message;
      if (request.url.startsWith('/api/')) return reply.code(status).send({ error: message });
      return reply.code(status).type('text/plain; charset=utf-8').send(message);
    });

    // --- assets, login ---
    app.get('/assets/dashboard.css', async (_request, reply) =>
      reply.header('cache-control', 'public, max-age=3600').type('text/css; charset=utf-8').send(STYLESHEET),
    );
    app.get('/login', async (request, reply) => {
      const next = safeNext((request.query as Record<string, unknown>).next);
      return reply
        .type('text/html; charset=utf-8')
        .send(loginPage({ next, configured: !!access.settings.passwordHash }));
    });
    app.post('/login', async (request, reply) => {
      const body = (request.body ?? {}) as Record<string, unknown>;
      const next = safeNext(body.next);
      const address = request.ip;
      const blocked = access.loginBlockedFor(address);
      if (blocked > 0)
        return reply
          .code(429)
          .header('retry-after', String(blocked))
          .type('text/html; charset=utf-8')
          .send(
            loginPage({
              next,
              configured: true,
              error: `Too many failed attempts: try again in ${blocked} s.`,
            }),
          );
      const session = await access.login(
        address,
        text(body.who) ?? '',
        typeof body.password === 'string' ? body.password : '',
      );
      if (!session)
        return reply
          .code(401)
          .type('text/html; charset=utf-8')
          .send(loginPage({ next, configured: !!access.settings.passwordHash, error: 'Wrong password.' }));
      access.setSessionCookie(reply, session);
      return reply.code(303).header('location', next).send();
    });
    app.post('/logout', async (request, reply) => {
      if (request.principal?.session) access.logout(request.principal.session.id);
      access.clearSessionCookie(reply);
      return reply.code(303).header('location', '/login').send();
    });

    // --- pages ---
    const htmlReply = (reply: FastifyReply, body: string) =>
      reply.type('text/html; charset=utf-8').send(body);

    app.get('/', async (request, reply) =>
      htmlReply(reply, overviewPage(ctxOf(request), await overviews(), await budgets())),
    );

    app.get('/problems', async (request, reply) => {
      const filter = problemFilter(request.query as Record<string, unknown>);
      const problems = await listProblems(store, filter);
      const kinds = [
        ...new Set(
          (await listProblems(store, { ...(filter.connection ? { connection: filter.connection } : {}) }))
            .map((p) => p.jobKind)
            .filter((k): k is string => !!k),
        ),
      ].sort();
      return htmlReply(
        reply,
        problemsPage(ctxOf(request), {
          filter,
          groups: groupProblems(problems),
          total: problems.length,
          connections: connectionNames,
          kinds,
          dismissals: await listDismissals(store, { limit: 20 }),
        }),
      );
    });
    const problemsBack = (body: Record<string, unknown>) => {
      const { causeId: _c, ...rest } = problemFilter(body);
      return `/problems${query({ ...rest })}`;
    };
    app.post('/problems/retry', async (request, reply) => {
      const body = (request.body ?? {}) as Record<string, unknown>;
      const r = await retry(body, request.principal?.who ?? 'operator');
      const skipped =
        r.skipped.length > 0
          ? ` Not retried: ${r.skipped.map((s) => `${s.id} (${s.reason})`).join('; ')}.`
          : '';
      return backTo(
        request,
        reply,
        problemsBack(body),
        `Retried ${r.retried.length} job${r.retried.length === 1 ? '' : 's'}: they run now.${skipped}`,
      );
    });
    app.post('/problems/dismiss', async (request, reply) => {
      const body = (request.body ?? {}) as Record<string, unknown>;
      const r = await dismiss(body, request.principal?.who ?? 'operator');
      const skipped =
        r.skipped.length > 0
          ? ` Not dismissed: ${r.skipped.map((s) => `${s.id} (${s.reason})`).join('; ')}.`
          : '';
      return backTo(
        request,
        reply,
        problemsBack(body),
        `Dismissed ${r.dismissed.length} problem${r.dismissed.length === 1 ? '' : 's'}; the history below keeps who and why.${skipped}`,
      );
    });

    app.get('/records', async (request, reply) => {
      const source = request.query as Record<string, unknown>;
      const form = recordsForm(source);
      const searched = Object.keys(source).length > 0;
      const results = searched
        ? await searchRecords(store, recordSearch(form, 200))
        : await searchRecords(store, { limit: 25 });
      return htmlReply(reply, recordsPage(ctxOf(request), form, results, connectionNames));
    });
    app.get('/records.csv', async (request, reply) => {
      const form = recordsForm(request.query as Record<string, unknown>);
      const results = await searchRecords(store, recordSearch(form, 5000));
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', 'attachment; filename="records.csv"')
        .send(recordsCsv(results));
    });
    app.get('/records/:connection/:type/:key', async (request, reply) => {
      const { connection, type, key } = request.params as { connection: string; type: string; key: string };
      const path = await recordPath(store, connection, type, key);
      if (!path) throw new HttpError(404, `No record ${type} ${key} on connection ${connection}.`);
      return htmlReply(reply, recordPage(ctxOf(request), path));
    });

    app.get('/connections', async (request, reply) =>
      htmlReply(
        reply,
        connectionsPage(
          ctxOf(request),
          config.connections.map((c) => ({
            connection: c,
            webhookUrl: webhookUrlFor(config, c),
            ...(lastPings.has(c.name) ? { lastPing: lastPings.get(c.name) } : {}),
          })),
        ),
      ),
    );
    app.post('/connections/:name/ping', async (request, reply) => {
      const { name } = request.params as { name: string };
      const results = await ping(name);
      const failed = results.filter((r) => r.verdict === 'fail').length;
      const warned = results.filter((r) => r.verdict === 'warn').length;
      return backTo(
        request,
        reply,
        '/connections',
        failed > 0
          ? `Connection ${name}: ${failed} of ${results.length} checks failed.`
          : warned > 0
            ? `Connection ${name}: no check failed; ${warned} of ${results.length} with a warning.`
            : `Connection ${name}: every check passed (${results.length}).`,
      );
    });

    app.get('/api/docs', async (request, reply) =>
      htmlReply(reply, apiDocsPage(ctxOf(request), OPENAPI as never)),
    );

    // --- API ---
    app.get('/api/openapi.json', async () => OPENAPI);
    app.get('/api/connections', async () => {
      const all = await overviews();
      return {
        connections: config.connections.map((c, i) => ({
          name: c.name,
          settings: c,
          overview: all[i]?.overview,
          problems: all[i]?.problems,
        })),
        budgets: await budgets(),
      };
    });
    app.get('/api/connections/:name', async (request) => {
      const { name } = request.params as { name: string };
      const settings = settingsOf(name);
      const problems = countProblems(await listProblems(store, { connection: name }));
      return { name, settings, overview: await connectionOverview(store, name, clock.now()), problems };
    });
    app.post('/api/connections/:name/ping', async (request) => {
      const { name } = request.params as { name: string };
      const results = await ping(name);
      return { connection: name, ok: results.every((r) => r.verdict !== 'fail'), results };
    });
    app.get('/api/problems', async (request) => {
      const source = request.query as Record<string, unknown>;
      const problems = await listProblems(store, problemFilter(source));
      const limit = Math.max(
        1,
        Math.min(Number(text(source.limit) ?? LISTED_PER_GROUP) || LISTED_PER_GROUP, 5000),
      );
      return {
        total: problems.length,
        counts: countProblems(problems),
        groups: groupProblems(problems).map((g) => ({ ...g, problems: g.problems.slice(0, limit) })),
      };
    });
    app.post('/api/problems/retry', async (request) =>
      retry((request.body ?? {}) as Record<string, unknown>, request.principal?.who ?? 'api'),
    );
    app.post('/api/problems/dismiss', async (request) =>
      dismiss((request.body ?? {}) as Record<string, unknown>, request.principal?.who ?? 'api'),
    );
    app.get('/api/dismissals', async (request) => {
      const source = request.query as Record<string, unknown>;
      return {
        dismissals: await listDismissals(store, {
          ...(text(source.connection) ? { connection: text(source.connection) } : {}),
          limit: Number(text(source.limit) ?? 100) || 100,
        }),
      };
    });
    app.get('/api/records', async (request, reply) => {
      const source = request.query as Record<string, unknown>;
      const form = recordsForm(source);
      const limit = Number(text(source.limit) ?? 100) || 100;
      const records = await searchRecords(store, recordSearch(form, limit));
      if (text(source.format) === 'csv')
        return reply
          .type('text/csv; charset=utf-8')
          .header('content-disposition', 'attachment; filename="records.csv"')
          .send(recordsCsv(records));
      return { records };
    });
    app.get('/api/records/:connection/:type/:key', async (request) => {
      const { connection, type, key } = request.params as { connection: string; type: string; key: string };
      const path = await recordPath(store, connection, type, key);
      if (!path) throw new HttpError(404, `no record ${type} ${key} on connection ${connection}`);
      return path;
    });
    app.get('/api/jobs', async (request) => {
      const source = request.query as Record<string, unknown>;
      const state = text(source.state);
      const filter = {
        ...(state ? { state: state as never } : {}),
        ...(text(source.kind) ? { kind: text(source.kind) } : {}),
        ...(text(source.connection) ? { connection: text(source.connection) } : {}),
        limit: Math.min(Number(text(source.limit) ?? 100) || 100, 1000),
      };
      return {
        counts: await countJobsByKindAndState(
          store,
          filter.connection ? { connection: filter.connection } : {},
        ),
        jobs: await listJobs(store, filter),
      };
    });
    app.get('/api/jobs/:id', async (request) => {
      const id = Number((request.params as { id: string }).id);
      const job = Number.isInteger(id) ? await getJob(store, id) : undefined;
      if (!job) throw new HttpError(404, `no job ${(request.params as { id: string }).id}`);
      return { job, attempts: await listAttempts(store, id) };
    });
  };
}

export { Access };
