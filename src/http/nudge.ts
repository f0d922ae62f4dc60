/**
 * The nudge: `POST /api/connections/<name>/orders/<salesOrder>/sync`, which a SYSPRO trigger
 * (Trigger Program Setup "Run any application", an electronic-signature trigger) calls with one
 * sales order number after it changed, so that order reaches ShipStation within seconds instead of
 * at the next poll. The poll stays the source of truth: the nudge only queues a one-order sync
 * (`queueOrderSyncs`, coalesced with the poll's job for the same order) and wakes the worker.
 * Scripts that call it: `scripts/syspro/`.
 *
 * Checks, in order:
 * - unknown connection, or a connection without `api.token` → 404 (nothing else is said);
 * - no `Authorization: Bearer <token>`, or the wrong token → 401 with `WWW-Authenticate: Bearer`,
 *   an audit row (outcome `error`, at most REFUSED_AUDIT_PER_MINUTE a minute per connection, so an
 *   unauthenticated flood cannot grow the audit table without bound), nothing queued. Tokens are
 *   compared in constant time (sha256 digests of both, `timingSafeEqual`), and never logged;
 * - the configured token cannot be read, or is shorter than MIN_TOKEN_LENGTH → 503 (an operator
 *   must fix the configuration; the log says what, never the value);
 * - a sales order that is not a plausible SYSPRO key → 400;
 * - otherwise 202 `{ queued: true, jobId, coalesced }` and an audit row (outcome `ok`).
 * The token is read on each request (environment first, then the encrypted store), so a token
 * rotated with `creds set` applies without a restart.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Clock } from '../clock.js';
import type { ConnectionConfig } from '../config/schema.js';
import type { Logger } from '../logger.js';
import { appendAudit } from '../store/audit.js';
import type { Store } from '../store/open.js';
import { ORDER_ENTITY, ORDERS_PUSH_KIND, queueOrderSyncs } from '../sync/orders.js';
import { orderKeyFor } from '../sync/orders-mapper.js';

export const NUDGE_ROUTE = '/api/connections/:connection/orders/:salesOrder/sync';
/** SYSPRO 8 keys a sales order with up to 20 characters (SYSPRO 7 and earlier: 6 digits). */
export const SALES_ORDER_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,19}$/;
export const MIN_TOKEN_LENGTH = 16;
export const REFUSED_AUDIT_PER_MINUTE = 30;
const FLOW = 'nudge';

export interface NudgeDeps {
  connections: readonly ConnectionConfig[];
  store: Store;
  clock: Clock;
  logger?: Logger;
  /** A connection's secret by name: the environment first, then the encrypted store (`resolveSecret`). */
  resolveSecret(connection: string, name: string): Promise<string>;
  /** Wakes the worker for a job kind (`worker.notify`), so the queued sync runs now. */
  notify(kind: string): void;
}

const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();

/** Equal tokens, in time that does not depend on where they differ (digests have equal length). */
export function tokensMatch(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

/** The token of an `Authorization: Bearer <token>` header, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer[ \t]+([^\s]+)[ \t]*$/i.exec(header ?? '');
  return match?.[1];
}

export function registerNudgeRoutes(app: FastifyInstance, deps: NudgeDeps): void {
  const log = deps.logger?.child({ component: 'nudge' });
  const refused = new Map<string, { windowStart: number; count: number }>();

  /** Whether this refusal gets an audit row (the first REFUSED_AUDIT_PER_MINUTE of each minute). */
  const auditRefusal = (connection: string): boolean => {
    const now = deps.clock.now();
    let window = refused.get(connection);
    if (!window || now - window.windowStart >= 60_000) {
      window = { windowStart: now, count: 0 };
      refused.set(connection, window);
    }
    window.count++;
    if (window.count === REFUSED_AUDIT_PER_MINUTE + 1)
      log?.warn(
        { connection, perMinute: REFUSED_AUDIT_PER_MINUTE },
        'many refused nudges: further refusals this minute are logged, not audited',
      );
    return window.count <= REFUSED_AUDIT_PER_MINUTE;
  };

  // Own scope: whatever body a trigger sends (none, an empty form or JSON) is ignored, unparsed.
  app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: 4096 }, (_request, _body, done) =>
      done(null, undefined),
    );
    registerNudgeRoute(scope, deps, log, auditRefusal);
  });
}

function registerNudgeRoute(
  app: FastifyInstance,
  deps: NudgeDeps,
  log: Logger | undefined,
  auditRefusal: (connection: string) => boolean,
): void {
  app.post<{ Params: { connection: string; salesOrder: string } }>(NUDGE_ROUTE, async (request, reply) => {
    const { connection: name } = request.params;
    const connection = deps.connections.find((c) => c.name === name);
    const tokenRef = connection?.api.token;
    if (!connection || !tokenRef) {
      return reply.code(404).send({ error: `no nudge endpoint for connection "${name}"` });
    }

    let expected: string;
    try {
      expected = await deps.resolveSecret(connection.name, tokenRef.secret);
    } catch (err) {
      log?.error(
        { connection: name, secretName: tokenRef.secret, err: (err as Error).message },
        'nudge refused: the API token cannot be read',
      );
      return unavailable(reply, name);
    }
    if (expected.length < MIN_TOKEN_LENGTH) {
      log?.error(
        { connection: name, secretName: tokenRef.secret, minLength: MIN_TOKEN_LENGTH },
        'nudge refused: the configured API token is too short (use `openssl rand -hex 32`)',
      );
      return unavailable(reply, name);
    }

    // Length-capped, so a refusal's audit row cannot carry an arbitrary text from the caller.
    const salesOrderText = request.params.salesOrder.trim().slice(0, 40);
    const given = bearerToken(request.headers.authorization);
    if (given === undefined || !tokensMatch(given, expected)) {
      const reason = given === undefined ? 'no bearer token' : 'wrong token';
      log?.warn({ connection: name, salesOrder: salesOrderText, ip: request.ip, reason }, 'nudge refused');
      if (auditRefusal(name)) {
        await appendAudit(deps.store.db, {
          connection: name,
          flow: FLOW,
          entityType: ORDER_ENTITY,
          entityKey: salesOrderText,
          action: 'nudge',
          outcome: 'error',
          detail: { reason, ip: request.ip },
          error: `nudge refused: ${reason}`,
          at: deps.clock.now(),
        });
      }
      return reply
        .code(401)
        .header(
          'WWW-Authenticate',
          given === undefined
            ? 'Bearer realm="ml-connector"'
            : 'Bearer realm="ml-connector", error="invalid_token"',
        )
        .send({ error: 'a valid bearer token is required (Authorization: Bearer <token>)' });
    }

    if (!SALES_ORDER_PATTERN.test(salesOrderText)) {
      return reply.code(400).send({
        error: `"${salesOrderText}" is not a SYSPRO sales order number (1 to 20 letters, digits, "-" or "_")`,
      });
    }

    const now = deps.clock.now();
    // The active job it coalesced with can finish between the insert and the look-up (id -1): again.
    let queued = (await queueOrderSyncs(deps.store, connection, [salesOrderText], now))[0];
    if (!queued || queued.jobId < 0)
      queued = (await queueOrderSyncs(deps.store, connection, [salesOrderText], now))[0];
    const jobId = queued?.jobId ?? -1;
    const coalesced = queued ? !queued.created : false;
    deps.notify(ORDERS_PUSH_KIND);
    await appendAudit(deps.store.db, {
      connection: name,
      flow: FLOW,
      entityType: ORDER_ENTITY,
      entityKey: orderKeyFor(connection.syspro.company, salesOrderText),
      action: 'nudge',
      outcome: 'ok',
      jobId: jobId > 0 ? jobId : null,
      detail: { salesOrder: salesOrderText, coalesced, ip: request.ip },
      at: now,
    });
    log?.info({ connection: name, salesOrder: salesOrderText, jobId, coalesced }, 'nudge queued');
    return reply.code(202).send({ queued: true, jobId, coalesced });
  });
}

function unavailable(reply: FastifyReply, name: string) {
  return reply
    .code(503)
    .send({ error: `the nudge of connection "${name}" is not available: see the service log` });
}
