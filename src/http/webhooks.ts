/**
 * The ShipStation webhook receiver, a route module of the `run` server (`createHttpServer`'s
 * `routes`). A webhook is a pointer: this checks it, stores one job per accepted event and answers,
 * never waiting for ShipStation or SYSPRO. The job is in the store before the 200 goes back.
 *
 * V1 (`POST /webhooks/shipstation/<connection>?token=<secret>`): V1 webhooks are unsigned, so the
 * subscribed URL carries our secret (`shipstation.webhookSecret`), compared in constant time
 * (SHA-256 digests through `timingSafeEqual`). In order:
 * - unknown connection → 404; no or wrong token → 401 and an audit row (the token never logged);
 * - a body that is not JSON → 415, over 64 KiB → 413, not `{resource_url, resource_type}` → 400
 *   (each audited, like every refusal below);
 * - a `resource_type` that is no V1 event → 400; a `resource_url` that is not the shape its event
 *   points at, on a ShipStation API host (`shipstation/resource-url.ts`) → 400 and an audit row,
 *   never fetched;
 * - `FULFILLMENT_REJECTED` → 200, audited, nothing stored (no flow acts on it);
 * - otherwise the event is appended to the inbox (`store/webhook-inbox.ts`) → 200
 *   `{status: 'stored', inboxId}` once the transaction holding it committed. Group commit
 *   (`store/jobs/group-enqueue.ts`): the events arriving while a transaction is written go together
 *   in the next one (at most `http.webhookBatch`), each request answered after its own transaction
 *   committed. The inbox's drain (`store/inbox-drainer.ts`, `http.webhookDrainDelay` later, and at
 *   start and stop) moves the rows into one job each (`sync/webhook-events.ts`), keyed so a
 *   redelivery coalesces; `settle()` waits for it.
 * The store unreachable (a failed transaction fails every request in it), or the secret unreadable
 * → 503, so ShipStation delivers again; more than `http.webhookQueue` events waiting → 503 with
 * `Retry-After` (memory stays bounded under a flood); `http.webhookInboxLimit` events in the inbox
 * (acknowledged, not moved into jobs: the drain failing or far behind) → 503 with `Retry-After: 60`,
 * so the inbox stays bounded too (`inboxStatus()`: `/readyz`, `/metrics`).
 *
 * V2 (`POST /webhooks/shipstation-v2/<connection>`): authenticated by the RSA signature, verified
 * with the landed verifier against the JWKS at `<shipstation.v2Url>/jwks` (keys cached). Its
 * statuses are the verifier's (404 unsigned, 400 stale, 401 forged, 503 JWKS unreadable). Then the
 * event (`V2_EVENT_KINDS`) and its resource_url (V2 host, and the path its event points at,
 * `V2_EVENT_RESOURCE_PATHS`) are checked, and one `shipments.fetch` job is stored as for V1.
 *
 * Refusals after the connection is known are audited, at most `AUDIT_REFUSALS_PER_MINUTE` per
 * connection a minute (the rest counted in one summary row), so a flood of forged requests cannot
 * fill the audit table.
 */
import { hash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Clock } from '../clock.js';
import type { Config, ConnectionConfig } from '../config/schema.js';
import type { Logger } from '../logger.js';
import { checkResourceUrl } from '../shipstation/resource-url.js';
import { parseV1WebhookPayload } from '../shipstation/v1/webhook-payload.js';
import { createWebhookVerifier, type WebhookVerifier } from '../shipstation/v2/webhook-signature.js';
import { appendAudit } from '../store/audit.js';
import type { AuditTable } from '../store/database.js';
import { createInboxDrainer, type InboxStatus } from '../store/inbox-drainer.js';
import { createGroupCommit, QueueFullError } from '../store/jobs/group-enqueue.js';
import type { Store } from '../store/open.js';
import { appendToInbox, type InboxEvent } from '../store/webhook-inbox.js';
import {
  V1_EVENT_KINDS,
  V1_EVENT_RESOURCE_PATHS,
  V2_EVENT_KINDS,
  V2_EVENT_RESOURCE_PATHS,
  type WebhookJobKind,
  type WebhookJobPayload,
  webhookJobKey,
} from '../sync/webhook-events.js';

export const WEBHOOK_BODY_LIMIT = 64 * 1024;
export const AUDIT_REFUSALS_PER_MINUTE = 60;
/** A resolved secret is used this long before it is read again (a rotation takes effect within it). */
const SECRET_TTL_MS = 60_000;
/** After a mismatch the secret is read again at once, but at most this often per connection. */
const SECRET_RECHECK_MS = 5_000;
/** Retry-After (seconds) of the 503 sent when too many events wait to be stored. */
export const QUEUE_FULL_RETRY_AFTER_S = 5;
/**
 * Retry-After (seconds) of the 503 sent while the inbox holds `http.webhookInboxLimit` events: the
 * drain is failing or far behind, which takes longer than a queue burst to clear.
 */
export const INBOX_FULL_RETRY_AFTER_S = 60;

export interface WebhookReceiverOptions {
  config: Config;
  store: Store;
  /** Resolves a connection's `secret:` reference (environment first, then the encrypted store). */
  resolveSecret(connection: string, name: string): Promise<string>;
  clock: Clock;
  logger?: Logger;
  /** The V2 verifier of a connection (default: the JWKS at `<shipstation.v2Url>/jwks`). */
  verifierFor?(connection: ConnectionConfig): WebhookVerifier;
  /** Overrides `http.webhookBatch` / `http.webhookQueue`; `beforeBatch` is a test seam (group-enqueue.ts). */
  groupCommit?: {
    maxBatch?: number;
    maxQueue?: number;
    beforeBatch?: (waiting: () => number) => Promise<void>;
  };
  /** Called with each job kind the inbox's drain moved into `jobs` (`run` wakes its worker). */
  notify?: (kind: string) => void;
  /**
   * The inbox's drain (`store/inbox-drainer.ts`): delay after new rows, rows per transaction, wait
   * after a failed drain; `limit` overrides `http.webhookInboxLimit`.
   */
  inbox?: { delayMs?: number; batch?: number; retryMs?: number; limit?: number };
}

/** The inbox as `/readyz` and `/metrics` show it. */
export interface WebhookInboxStatus extends InboxStatus {
  /** `http.webhookInboxLimit` (0: none). */
  limit: number;
  /** `full`: at the limit, webhooks answered 503; `failing`: the last drain failed; else `ok`. */
  state: 'ok' | 'failing' | 'full';
  /** Webhooks this process answered 503 because the inbox was full. */
  refused: number;
}

/**
 * The route module; `settle()` resolves once the inbox has been moved into `jobs` (tests, the
 * bench); `inboxStatus()` is the backlog and the drain's state, read from memory.
 */
export type WebhookRoutes = ((app: FastifyInstance) => Promise<void>) & {
  settle(): Promise<void>;
  inboxStatus(): WebhookInboxStatus;
};

type Reply = { status: number; body: Record<string, unknown>; headers?: Record<string, string> };

class SecretUnavailable extends Error {}

/** `<v2Url>/jwks`: `https://api.shipstation.com/jwks` for production, the sandbox's own for tests. */
export function jwksUrlFor(connection: ConnectionConfig): string {
  return new URL('/jwks', connection.shipstation.v2Url).toString();
}

// One-shot `crypto.hash` (Node ≥ 20.12): a `createHash` object per request was the receiver's
// largest JavaScript cost under load (issue #11's profile).
const digest = (text: string): Buffer => hash('sha256', text, 'buffer');

/**
 * A V2 resource_url is fetched with our V2 key: https on `api.shipstation.com` (default port) or a
 * configured `allowedResourceHosts` entry, a plain path under `/v2/`, no user information.
 */
export function v2ResourceUrlProblem(raw: string, allowedHosts: readonly string[]): string | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'not a valid absolute URL';
  }
  if (url.username !== '' || url.password !== '') return 'the URL carries user information';
  const host = url.host.toLowerCase();
  const explicit = allowedHosts.some((e) => {
    const entry = e.trim().toLowerCase();
    return entry !== '' && (entry === host || entry === url.hostname.toLowerCase());
  });
  if (explicit) {
    if (url.protocol !== 'https:' && url.protocol !== 'http:') return `scheme ${url.protocol} is not http(s)`;
  } else {
    if (url.hostname.toLowerCase() !== 'api.shipstation.com')
      return `host ${url.hostname} is not the ShipStation API host`;
    if (url.protocol !== 'https:' || url.port !== '') return 'the ShipStation API is only called over https';
  }
  const rawPath = /^[a-z][a-z0-9+.-]*:\/\/[^/?#\\]*([^?#]*)/i.exec(raw)?.[1];
  if (rawPath === undefined || rawPath !== url.pathname || /%|\/\/|\/\.{1,2}(\/|$)/.test(rawPath))
    return 'the path is not written plainly';
  if (!url.pathname.startsWith('/v2/')) return `path ${url.pathname} is not a V2 resource`;
  if (raw.includes('#')) return 'the URL carries a fragment';
  return undefined;
}

export function webhookReceiver(options: WebhookReceiverOptions): WebhookRoutes {
  const { config, store, clock } = options;
  const logger = options.logger?.child({ component: 'webhooks' });
  const connections = new Map(config.connections.map((c) => [c.name, c]));

  // ---- secrets, cached per connection ----
  const secrets = new Map<string, { digest: Buffer; at: number }>();
  const lastRecheck = new Map<string, number>();
  async function secretDigest(connection: ConnectionConfig, fresh: boolean): Promise<Buffer | undefined> {
    const ref = connection.shipstation.webhookSecret;
    if (!ref) return undefined;
    const cached = secrets.get(connection.name);
    const now = clock.now();
    if (cached && !fresh && now - cached.at < SECRET_TTL_MS) return cached.digest;
    let value: string;
    try {
      value = await options.resolveSecret(connection.name, ref.secret);
    } catch (error) {
      throw new SecretUnavailable(error instanceof Error ? error.message : String(error));
    }
    const entry = { digest: digest(value), at: now };
    secrets.set(connection.name, entry);
    return entry.digest;
  }

  async function tokenMatches(connection: ConnectionConfig, token: string): Promise<'ok' | 'wrong' | 'none'> {
    const presented = digest(token);
    const expected = await secretDigest(connection, false);
    if (!expected) return 'none';
    if (timingSafeEqual(presented, expected)) return 'ok';
    // A mismatch may follow a rotation: read the secret again, at most every few seconds.
    const now = clock.now();
    if (now - (lastRecheck.get(connection.name) ?? Number.NEGATIVE_INFINITY) < SECRET_RECHECK_MS)
      return 'wrong';
    lastRecheck.set(connection.name, now);
    const again = await secretDigest(connection, true);
    return again && timingSafeEqual(presented, again) ? 'ok' : 'wrong';
  }

  // ---- V2 verifiers, one per connection (each caches its keys) ----
  const verifiers = new Map<string, WebhookVerifier>();
  const verifierFor = (connection: ConnectionConfig): WebhookVerifier => {
    let verifier = verifiers.get(connection.name);
    if (!verifier) {
      verifier =
        options.verifierFor?.(connection) ??
        createWebhookVerifier({ clock, jwksUrl: jwksUrlFor(connection) });
      verifiers.set(connection.name, verifier);
    }
    return verifier;
  };

  // ---- audit of refusals, bounded per connection and minute ----
  const auditWindows = new Map<string, { start: number; count: number; suppressed: number }>();
  async function audit(
    connection: string,
    event: string,
    outcome: AuditTable['outcome'],
    action: string,
    detail: Record<string, unknown>,
    error?: string,
  ): Promise<void> {
    const now = clock.now();
    let window = auditWindows.get(connection);
    if (!window || now - window.start >= 60_000) {
      if (window && window.suppressed > 0) {
        await appendAudit(store.db, {
          connection,
          flow: 'webhooks',
          entityType: 'webhook',
          entityKey: 'refusals',
          action: 'refusals-not-recorded',
          outcome: 'info',
          detail: { count: window.suppressed, since: window.start },
          at: now,
        }).catch(() => {});
      }
      window = { start: now, count: 0, suppressed: 0 };
      auditWindows.set(connection, window);
    }
    if (window.count >= AUDIT_REFUSALS_PER_MINUTE) {
      window.suppressed += 1;
      return;
    }
    window.count += 1;
    await appendAudit(store.db, {
      connection,
      flow: 'webhooks',
      entityType: 'webhook',
      entityKey: event,
      action,
      outcome,
      detail,
      error: error ?? null,
      at: now,
    }).catch((err: unknown) =>
      logger?.error({ err, connection }, 'could not write the audit row of a webhook'),
    );
  }

  const refuse = async (
    connection: string,
    status: number,
    action: string,
    reason: string,
    extra: { event?: string; request: FastifyRequest; detail?: Record<string, unknown> },
  ): Promise<Reply> => {
    logger?.warn({ connection, status, reason, ip: extra.request.ip }, `webhook refused: ${action}`);
    await audit(
      connection,
      extra.event ?? 'unknown',
      'error',
      action,
      { status, ip: extra.request.ip, ...extra.detail },
      reason,
    );
    return { status, body: { error: reason } };
  };

  // ---- storing: group commit into the inbox, drained into jobs (store/webhook-inbox.ts) ----
  const drainer = createInboxDrainer({
    store,
    clock,
    logger,
    delayMs: options.inbox?.delayMs ?? config.http.webhookDrainDelay,
    batch: options.inbox?.batch ?? config.http.webhookDrainBatch,
    sweepMs: config.http.webhookDrainSweep,
    ...(options.inbox?.retryMs === undefined ? {} : { retryMs: options.inbox.retryMs }),
    onMoved: (result) => {
      for (const kind of result.kinds) options.notify?.(kind);
    },
  });
  const enqueuer = createGroupCommit<InboxEvent, number>((batch) => appendToInbox(store, batch), {
    maxBatch: options.groupCommit?.maxBatch ?? config.http.webhookBatch,
    maxQueue: options.groupCommit?.maxQueue ?? config.http.webhookQueue,
    beforeBatch: options.groupCommit?.beforeBatch,
  });

  const inboxLimit = options.inbox?.limit ?? config.http.webhookInboxLimit;
  let inboxRefused = 0;
  let lastInboxFullLog = Number.NEGATIVE_INFINITY;
  const inboxStatus = (): WebhookInboxStatus => {
    const status = drainer.status();
    const full = inboxLimit > 0 && status.waiting >= inboxLimit;
    return {
      ...status,
      limit: inboxLimit,
      state: full ? 'full' : status.failingDrains > 0 ? 'failing' : 'ok',
      refused: inboxRefused,
    };
  };

  /** The inbox holds `http.webhookInboxLimit` events: not acknowledged, ShipStation may deliver again. */
  function inboxFull(connection: ConnectionConfig): Reply {
    inboxRefused++;
    const now = clock.now();
    if (now - lastInboxFullLog >= 60_000) {
      lastInboxFullLog = now;
      const status = drainer.status();
      logger?.error(
        {
          connection: connection.name,
          waiting: status.waiting,
          limit: inboxLimit,
          failingDrains: status.failingDrains,
          lastError: status.lastError,
          refused: inboxRefused,
        },
        'webhook inbox full: answering 503 until its events move into jobs',
      );
    }
    return {
      status: 503,
      headers: { 'retry-after': String(INBOX_FULL_RETRY_AFTER_S) },
      body: {
        error: `${inboxLimit} webhook events wait to be moved into jobs; deliver it again later`,
      },
    };
  }

  async function store1(
    connection: ConnectionConfig,
    kind: WebhookJobKind,
    payload: WebhookJobPayload,
  ): Promise<Reply> {
    // One comparison of two in-memory numbers: the hot path reads no store for it.
    if (inboxLimit > 0 && drainer.waiting() >= inboxLimit) return inboxFull(connection);
    try {
      const inboxId = await enqueuer.enqueue({
        kind,
        connection: connection.name,
        payload,
        receivedAt: payload.receivedAt,
        idempotencyKey: webhookJobKey(connection.name, payload.event, payload.resourceUrl),
      });
      drainer.poke();
      return { status: 200, body: { status: 'stored', inboxId } };
    } catch (err) {
      if (err instanceof QueueFullError) {
        // Logged once a second at most: a flood must not become a flood of log lines.
        const now = clock.now();
        if (now - lastQueueFullLog >= 1000) {
          lastQueueFullLog = now;
          logger?.warn(
            { connection: connection.name, waiting: err.waiting, refused: enqueuer.stats.refused },
            'webhook queue full: answering 503 with Retry-After',
          );
        }
        return {
          status: 503,
          headers: { 'retry-after': String(QUEUE_FULL_RETRY_AFTER_S) },
          body: { error: 'too many webhooks waiting to be stored; deliver it again later' },
        };
      }
      logger?.error({ err, connection: connection.name, event: payload.event }, 'could not store a webhook');
      return { status: 503, body: { error: 'the webhook could not be stored; deliver it again' } };
    }
  }
  let lastQueueFullLog = Number.NEGATIVE_INFINITY;

  async function receiveV1(request: FastifyRequest<{ Params: { connection: string } }>): Promise<Reply> {
    const connection = connections.get(request.params.connection);
    if (!connection) return { status: 404, body: { error: 'no such connection' } };
    const name = connection.name;
    const query = request.query as Record<string, unknown>;
    const token = typeof query.token === 'string' ? query.token : undefined;
    if (!connection.shipstation.webhookSecret) {
      return refuse(name, 401, 'refused-unauthenticated', 'webhooks are not configured for this connection', {
        request,
      });
    }
    if (token === undefined || token === '')
      return refuse(name, 401, 'refused-unauthenticated', 'no token', { request });
    let match: 'ok' | 'wrong' | 'none';
    try {
      match = await tokenMatches(connection, token);
    } catch (error) {
      logger?.error(
        { connection: name, error: (error as Error).message },
        'cannot read shipstation.webhookSecret to check a webhook',
      );
      return { status: 503, body: { error: 'cannot check the webhook now; deliver it again' } };
    }
    if (match !== 'ok') return refuse(name, 401, 'refused-unauthenticated', 'wrong token', { request });

    const parsed = parseV1WebhookPayload(request.body as Buffer | undefined);
    if (!parsed.ok) return refuse(name, 400, 'refused-malformed', parsed.reason, { request });
    const event = parsed.payload.resource_type;
    const resourceUrl = parsed.payload.resource_url;
    if (!(event in V1_EVENT_KINDS)) {
      return refuse(name, 400, 'refused-malformed', `resource_type ${event.slice(0, 40)} is not a V1 event`, {
        request,
        detail: { resourceType: event.slice(0, 40) },
      });
    }
    const check = checkResourceUrl(resourceUrl, connection.shipstation.allowedResourceHosts);
    const expectedPath = V1_EVENT_RESOURCE_PATHS[event];
    const problem = !check.ok
      ? check.reason
      : check.url.pathname.toLowerCase() !== expectedPath
        ? `${event} points at ${expectedPath}, not ${check.url.pathname}`
        : undefined;
    if (problem) {
      return refuse(name, 400, 'refused-resource-url', `resource_url refused: ${problem}`, {
        request,
        event,
        detail: { resourceUrl: resourceUrl.slice(0, 300) },
      });
    }
    const kind = V1_EVENT_KINDS[event];
    if (!kind) {
      await audit(name, event, 'skipped', 'ignored', { resourceUrl }, undefined);
      return { status: 200, body: { status: 'ignored', reason: `no flow acts on ${event}` } };
    }
    return store1(connection, kind, { api: 'v1', event, resourceUrl, receivedAt: clock.now() });
  }

  async function receiveV2(request: FastifyRequest<{ Params: { connection: string } }>): Promise<Reply> {
    const connection = connections.get(request.params.connection);
    if (!connection) return { status: 404, body: { error: 'no such connection' } };
    const name = connection.name;
    const rawBody = (request.body as Buffer | undefined) ?? Buffer.alloc(0);
    const verification = await verifierFor(connection).verify({ headers: request.headers, rawBody });
    if (!verification.ok) {
      if (verification.httpStatus === 503) {
        logger?.error({ connection: name, reason: verification.message }, 'cannot verify a V2 webhook');
        return { status: 503, body: { error: verification.message } };
      }
      return refuse(name, verification.httpStatus, 'refused-signature', verification.message, { request });
    }
    let body: unknown;
    try {
      body = JSON.parse(rawBody.toString('utf8'));
    } catch {
      return refuse(name, 400, 'refused-malformed', 'the body is not JSON', { request });
    }
    const { resource_url: resourceUrl, resource_type: type, data } = (body ?? {}) as Record<string, unknown>;
    if (typeof resourceUrl !== 'string' || typeof type !== 'string' || resourceUrl.length > 2000)
      return refuse(name, 400, 'refused-malformed', 'resource_url or resource_type is missing', { request });
    const event = type.trim().toUpperCase();
    const kind = V2_EVENT_KINDS[event];
    if (!kind) {
      await audit(name, event.slice(0, 40), 'skipped', 'ignored', { api: 'v2' });
      return { status: 200, body: { status: 'ignored', reason: `no flow acts on ${event.slice(0, 40)}` } };
    }
    const expectedPath = V2_EVENT_RESOURCE_PATHS[event];
    const problem =
      v2ResourceUrlProblem(resourceUrl, connection.shipstation.allowedResourceHosts) ??
      (expectedPath && !expectedPath.test(new URL(resourceUrl).pathname.toLowerCase())
        ? `${event} does not point at ${new URL(resourceUrl).pathname}`
        : undefined);
    if (problem) {
      return refuse(name, 400, 'refused-resource-url', `resource_url refused: ${problem}`, {
        request,
        event,
        detail: { api: 'v2', resourceUrl: resourceUrl.slice(0, 300) },
      });
    }
    return store1(connection, kind, {
      api: 'v2',
      event,
      resourceUrl,
      receivedAt: clock.now(),
      ...(data === undefined ? {} : { data }),
    });
  }

  const send = (reply: FastifyReply, out: Reply) => {
    if (out.headers) reply.headers(out.headers);
    return reply.code(out.status).send(out.body);
  };

  const routes = async (app: FastifyInstance) => {
    // Events a previous process acknowledged but did not move into jobs (it stopped or died) move now.
    app.addHook('onReady', async () => {
      drainer.start();
    });
    app.addHook('onClose', async () => {
      await enqueuer.close();
      await drainer.close();
    });
    // JSON only, kept raw (the V2 signature covers the exact bytes); anything else is Fastify's 415.
    app.removeAllContentTypeParsers();
    app.addContentTypeParser(
      ['application/json', 'text/json'],
      { parseAs: 'buffer', bodyLimit: WEBHOOK_BODY_LIMIT },
      (_request, body, done) => done(null, body),
    );
    app.setErrorHandler(async (error, request, reply) => {
      const status = (error as { statusCode?: number }).statusCode;
      if (typeof status === 'number' && status >= 400 && status < 500) {
        const code = (error as { code?: string }).code;
        const tooLarge = code === 'FST_ERR_CTP_BODY_TOO_LARGE';
        const mediaType = code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE';
        const message = tooLarge
          ? `the body is larger than ${WEBHOOK_BODY_LIMIT} bytes`
          : mediaType
            ? 'the body must be JSON (Content-Type: application/json)'
            : error instanceof Error
              ? error.message
              : 'bad request';
        // Refused before a route ran (size, media type, a body shorter than its length): audited
        // like the route's own refusals when the connection is one of ours.
        const name = (request.params as { connection?: unknown } | undefined)?.connection;
        if (typeof name === 'string' && connections.has(name)) {
          const action = tooLarge
            ? 'refused-too-large'
            : mediaType
              ? 'refused-content-type'
              : 'refused-malformed';
          const contentType = String(request.headers['content-type'] ?? '').slice(0, 80);
          const out = await refuse(name, status, action, message, { request, detail: { contentType } });
          return reply.code(out.status).send(out.body);
        }
        return reply.code(status).send({ error: message });
      }
      request.log.error({ err: error }, 'webhook receiver error');
      return reply.code(500).send({ error: 'internal error' });
    });
    const routeOptions = { bodyLimit: WEBHOOK_BODY_LIMIT };
    app.post<{ Params: { connection: string } }>(
      '/webhooks/shipstation/:connection',
      routeOptions,
      async (request, reply) => send(reply, await receiveV1(request)),
    );
    app.post<{ Params: { connection: string } }>(
      '/webhooks/shipstation-v2/:connection',
      routeOptions,
      async (request, reply) => send(reply, await receiveV2(request)),
    );
  };
  return Object.assign(routes, { settle: () => drainer.settle(), inboxStatus });
}
