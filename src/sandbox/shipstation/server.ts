/**
 * The ShipStation sandbox server: a faithful local ShipStation (API V1, a V2 subset, webhooks)
 * with seeded data and fault injection, written from reference/shipstation-api.md. It shares no
 * code with our ShipStation client. Start it in-process with `startShipStationSandbox`; the CLI's
 * `ml-connector sandbox` does the same. Options and `/_sandbox/` are documented in
 * docs/sandbox-shipstation.md.
 */
import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import Fastify, { type FastifyBaseLogger, type FastifyReply, type FastifyRequest } from 'fastify';
import { SeededRandom } from '../random.js';
import type { SandboxContext } from './context.js';
import {
  internalErrorBody,
  methodNotAllowedMessage,
  NoRouteError,
  sandboxErrorBody,
  TOO_MANY_REQUESTS_BODY,
  UNAUTHORIZED_BODY,
  unsupportedMediaTypeMessage,
  V1HttpError,
  V2HttpError,
  v2Error,
  v2ErrorBody,
} from './errors.js';
import { FaultRules, type FaultSpec } from './faults.js';
import { parseQueryLowerCase } from './list-query.js';
import type { FilterTimeRule } from './pacific-time.js';
import { FixedWindowRateLimit, type RateLimitSettings, type RateLimitVerdict } from './rate-limit.js';
import { DEFAULT_BODY_MEDIA_TYPE, RouteTable } from './routing.js';
import { registerSandboxRoutes } from './sandbox-routes.js';
import { seedAccount, seedOrders } from './seed.js';
import { SandboxRuleError, ShipStationState } from './state.js';
import { registerAccountRoutes } from './v1-account.js';
import { registerOrderRoutes } from './v1-orders.js';
import { registerShipmentRoutes } from './v1-shipments.js';
import { registerWebhookRoutes, type SubscribeResponseShape } from './v1-webhooks.js';
import { InventoryState, registerV2InventoryRoutes } from './v2-inventory.js';
import { type V2TimestampFormat, V2WebhookSigner } from './v2-signing.js';
import { registerV2WebhookRoutes, V2Webhooks } from './v2-webhooks.js';
import { DEFAULT_RETRY_DELAYS_MS, WebhookDeliveries, type WebhookDelivery } from './webhook-delivery.js';

export interface ShipStationSandboxOptions {
  /** Default 0 (a random free port). */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Every timestamp comes from it (orders, labels, rate-limit windows, webhook due times). Default: system time. */
  clock?: { now(): number };
  /** Seed for credentials, ids, generated data and fault decisions. Default 1. */
  seed?: number;
  /** Seeded orders to create at start. Default 0. */
  orders?: number;
  /** V1 budget per key/secret. Default 40 per 60 000 ms. */
  rateLimit?: RateLimitSettings;
  /**
   * Partner keys this sandbox knows: a V1 request carrying one as `x-partner` gets
   * `partnerRateLimit` (default 100) per window instead of `rateLimit.limit` (observed in
   * production, reference §10; an unknown partner key is ignored, which is UNCONFIRMED).
   */
  partnerKeys?: string[];
  partnerRateLimit?: number;
  /** V2 budget per API key. Default 200 per 60 000 ms. */
  v2RateLimit?: RateLimitSettings;
  /** Clock time between the event and the webhook POST. Default 2 000 ms. */
  webhookDelayMs?: number;
  /** Clock delays before each retry of a failed delivery. Default 60 s, 5 min, 15 min. */
  webhookRetryDelaysMs?: number[];
  /** Real-time limit for one delivery attempt. Default 10 000 ms. */
  webhookTimeoutMs?: number;
  /** Label `awaiting_shipment` orders `delayMs` (clock time) after they enter that status. Default off. */
  autoShip?: { delayMs: number } | false;
  /** Initial fault rules (also settable at runtime through `faults` and `/_sandbox/faults`). */
  faults?: FaultSpec[];
  /** A pino logger for the server, or false (default). */
  logger?: false | FastifyBaseLogger;
  /** Fixed credentials instead of seeded ones. */
  apiKey?: string;
  apiSecret?: string;
  v2ApiKey?: string;
  /** How filter bounds read an ambiguous fall-back time (see pacific-time.ts). Default `widen`. */
  filterTimeRule?: FilterTimeRule;
  /** Status for `createorder` on a shipped/cancelled order. Default 400 (UNCONFIRMED). */
  lockedOrderStatusCode?: number;
  /** Body of `POST /webhooks/subscribe`. Default `id` (`{"id": n}`). */
  webhookSubscribeResponse?: SubscribeResponseShape;
  /** Base of webhook `resource_url`s. Default: the sandbox's own URL. */
  resourceBaseUrl?: string;
  /** `x-shipengine-timestamp` format of V2 webhooks. Default `iso`. */
  v2TimestampFormat?: V2TimestampFormat;
  /**
   * Run a real-time timer (every `tickIntervalMs`) that delivers due webhooks, runs auto-ship and
   * releases holds by the clock's time. Default true; tests with a fake clock may turn it off and
   * call `tick()` / `flushWebhooks()` for determinism.
   */
  backgroundTimers?: boolean;
  tickIntervalMs?: number;
}

export interface ShipStationSandbox {
  url: string;
  apiKey: string;
  apiSecret: string;
  v2ApiKey: string;
  jwksUrl: string;
  /** The in-memory account (orders, shipments, fulfillments, webhooks...). */
  state: ShipStationState;
  inventory: InventoryState;
  v2Webhooks: V2Webhooks;
  faults: FaultRules;
  /** Every webhook delivery with its attempts. */
  deliveries(): WebhookDelivery[];
  /**
   * The budget as the sandbox counted it: requests admitted, and refused with a 429 because their
   * key's window was used up (injected 429s are not counted here; see `faults.counts()`).
   */
  budget(): { v1: { admitted: number; refused: number }; v2: { admitted: number; refused: number } };
  /** The last 10,000 V1/V2 API requests received (not `/_sandbox/` or `/jwks`), oldest first. */
  requests(): SandboxRequest[];
  /** Delivers every webhook due now (or every pending one with `all`) and waits for the outcomes. */
  flushWebhooks(options?: { all?: boolean }): Promise<WebhookDelivery[]>;
  /** Labels the auto-ship orders that are due now; returns their orderIds. */
  runAutoShip(): Promise<number[]>;
  setAutoShip(value: { delayMs: number } | false): void;
  /** Releases due holds, runs auto-ship, delivers due webhooks. */
  tick(): Promise<void>;
  close(): Promise<void>;
}

const AUTO_SHIP_BATCH = 100;
/** API requests kept in the request log (oldest dropped first). */
const REQUEST_LOG_SIZE = 10_000;

/** One API request as the sandbox received it (before auth, faults and routing). */
export interface SandboxRequest {
  /** Clock time. */
  at: number;
  api: 'v1' | 'v2';
  method: string;
  /** Path and query as sent. */
  url: string;
}

function apiOf(url: string): 'v1' | 'v2' | 'sandbox' {
  const path = (url.split('?')[0] ?? '').toLowerCase();
  if (path.startsWith('/_sandbox') || path === '/jwks') return 'sandbox';
  if (path === '/v2' || path.startsWith('/v2/')) return 'v2';
  return 'v1';
}

function pathOf(url: string): string {
  return url.split('?')[0] ?? '/';
}

/**
 * Fastify's own errors (thrown before or around a route: body parsing, limits, bad URLs) with the
 * status and V1 `Message` text ShipStation's stack (IIS, ASP.NET) would give; the production
 * texts are UNCONFIRMED (docs/decisions.md). Undefined for errors that are not Fastify's.
 */
function frameworkError(
  error: unknown,
  request: FastifyRequest,
): { status: number; message: string } | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !code.startsWith('FST_')) return undefined;
  switch (code) {
    case 'FST_ERR_BAD_URL':
    case 'FST_ERR_MAX_PARAM_LENGTH':
      // http.sys refuses these before ASP.NET ("Bad Request - Invalid URL").
      return { status: 400, message: 'HTTP Error 400. The request URL is invalid.' };
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { status: 413, message: 'Maximum request length exceeded.' };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE': {
      const header = request.headers['content-type'];
      const sent = (Array.isArray(header) ? header[0] : header)?.trim();
      return { status: 415, message: unsupportedMediaTypeMessage(sent || DEFAULT_BODY_MEDIA_TYPE) };
    }
    default: {
      const status = (error as { statusCode?: unknown }).statusCode;
      if (typeof status === 'number' && status >= 400 && status < 500) {
        return { status, message: 'The request is invalid.' };
      }
      return { status: 500, message: 'An error has occurred.' };
    }
  }
}

function bucketKey(prefix: string, credential: string): string {
  return `${prefix}:${createHash('sha256').update(credential).digest('hex').slice(0, 16)}`;
}

function readBasicAuth(header: string | undefined): { key: string; secret: string } | undefined {
  const m = /^Basic\s+(\S+)$/i.exec(header ?? '');
  if (!m?.[1]) return undefined;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { key: decoded.slice(0, colon), secret: decoded.slice(colon + 1) };
}

export async function startShipStationSandbox(
  options: ShipStationSandboxOptions = {},
): Promise<ShipStationSandbox> {
  const clock = options.clock ?? { now: () => Date.now() };
  const now = () => clock.now();
  const seed = options.seed ?? 1;
  const dataRandom = new SeededRandom(seed);
  const secretRandom = new SeededRandom(seed * 7919 + 17);
  const faultRandom = new SeededRandom(seed ^ 0x5bd1e995);

  const apiKey = options.apiKey ?? secretRandom.hex(32);
  const apiSecret = options.apiSecret ?? secretRandom.hex(32);
  const v2ApiKey = options.v2ApiKey ?? `TEST_${secretRandom.hex(40)}`;

  const state = new ShipStationState(now, dataRandom);
  const inventory = new InventoryState(now);
  const v2Webhooks = new V2Webhooks();
  seedAccount(state, inventory, now());
  if (options.orders) seedOrders(state, dataRandom, options.orders, now());

  const faults = new FaultRules(faultRandom);
  for (const spec of options.faults ?? []) faults.add(spec);
  const partnerKeys = new Set(options.partnerKeys ?? []);
  const v1Limit = new FixedWindowRateLimit(options.rateLimit ?? { limit: 40, windowMs: 60_000 }, now);
  const v2Limit = new FixedWindowRateLimit(options.v2RateLimit ?? { limit: 200, windowMs: 60_000 }, now);
  const signer = new V2WebhookSigner(`sandbox-${seed}`, options.v2TimestampFormat ?? 'iso');
  const deliveries = new WebhookDeliveries(
    {
      delayMs: options.webhookDelayMs ?? 2_000,
      retryDelaysMs: options.webhookRetryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS,
      timeoutMs: options.webhookTimeoutMs ?? 10_000,
    },
    now,
    faults,
    signer,
  );

  let baseUrl = '';
  const requestLog: SandboxRequest[] = [];
  const ctx: SandboxContext = {
    state,
    now,
    filterTimeRule: options.filterTimeRule ?? 'widen',
    render: { userId: state.userId, defaultWarehouseId: state.defaultWarehouseId },
    resourceBaseUrl: () => (options.resourceBaseUrl ?? baseUrl).replace(/\/+$/, ''),
    lockedOrderStatusCode: options.lockedOrderStatusCode ?? 400,
  };

  // Auto-ship: orders entering awaiting_shipment are labelled once their delay has passed.
  let autoShip = options.autoShip ?? false;
  let autoShipQueue: Array<{ orderId: number; dueAt: number }> = [];
  const runAutoShip = async (): Promise<number[]> => {
    const t = now();
    const due = autoShipQueue.filter((e) => e.dueAt <= t);
    autoShipQueue = autoShipQueue.filter((e) => e.dueAt > t);
    const ids = [...new Set(due.map((e) => e.orderId))].filter((id) => {
      const o = state.orders.get(id);
      return o?.active === true && o.status === 'awaiting_shipment';
    });
    const labelled: number[] = [];
    for (let i = 0; i < ids.length; i += AUTO_SHIP_BATCH) {
      const chunk = ids.slice(i, i + AUTO_SHIP_BATCH);
      try {
        state.createLabelBatch(chunk.map((orderId) => ({ orderId })));
        labelled.push(...chunk);
      } catch {
        for (const orderId of chunk) {
          try {
            state.createLabelBatch([{ orderId }]);
            labelled.push(orderId);
          } catch {
            // An order that cannot be labelled (e.g. no items) stays where it is.
          }
        }
      }
    }
    return labelled;
  };

  state.events = {
    orderImport(batch, _orderIds, storeIds) {
      for (const hook of state.webhooks.values()) {
        if (hook.event !== 'ORDER_NOTIFY' && hook.event !== 'ITEM_ORDER_NOTIFY') continue;
        if (hook.storeId !== null && !storeIds.has(hook.storeId)) continue;
        const store = hook.storeId !== null ? `storeID=${hook.storeId}&` : '';
        deliveries.enqueue({
          api: 'v1',
          event: hook.event,
          webhookId: hook.webhookId,
          targetUrl: hook.targetUrl,
          payload: {
            resource_url: `${ctx.resourceBaseUrl()}/orders?${store}importBatch=${batch}`,
            resource_type: hook.event,
          },
        });
      }
    },
    labelBatch(batchId, shipmentIds, storeIds) {
      for (const hook of state.webhooks.values()) {
        if (hook.event !== 'SHIP_NOTIFY' && hook.event !== 'ITEM_SHIP_NOTIFY') continue;
        if (hook.storeId !== null && !storeIds.has(hook.storeId)) continue;
        const store = hook.storeId !== null ? `storeID=${hook.storeId}&` : '';
        const items = hook.event === 'ITEM_SHIP_NOTIFY' ? 'True' : 'False';
        deliveries.enqueue({
          api: 'v1',
          event: hook.event,
          webhookId: hook.webhookId,
          targetUrl: hook.targetUrl,
          payload: {
            resource_url: `${ctx.resourceBaseUrl()}/shipments?${store}batchId=${batchId}&includeShipmentItems=${items}`,
            resource_type: hook.event,
          },
        });
      }
      for (const hook of v2Webhooks.forEvent('batch')) {
        deliveries.enqueue({
          api: 'v2',
          event: 'batch',
          webhookId: hook.webhook_id,
          targetUrl: hook.url,
          headers: Object.fromEntries(hook.headers.map((h) => [h.key, h.value])),
          payload: {
            resource_url: `${ctx.resourceBaseUrl()}/v2/batches/se-${batchId}`,
            resource_type: 'BATCH_PROCESSED_V2',
          },
        });
      }
      for (const hook of v2Webhooks.forEvent('track')) {
        for (const id of shipmentIds) {
          const s = state.shipments.get(id);
          if (!s) continue;
          deliveries.enqueue({
            api: 'v2',
            event: 'track',
            webhookId: hook.webhook_id,
            targetUrl: hook.url,
            headers: Object.fromEntries(hook.headers.map((h) => [h.key, h.value])),
            payload: {
              resource_url: `${ctx.resourceBaseUrl()}/v2/labels/se-${s.shipmentId}/track`,
              resource_type: 'TRACK_EVENT_V2',
              data: {
                tracking_number: s.trackingNumber,
                carrier_code: s.carrierCode,
                status_code: 'AC',
                status_description: 'Accepted',
                ship_date: new Date(s.shipDate).toISOString(),
                estimated_delivery_date: null,
                actual_delivery_date: null,
                events: [],
              },
            },
          });
        }
      }
    },
    fulfillmentBatch(event, batchId, _fulfillmentIds, storeIds) {
      for (const hook of state.webhooks.values()) {
        if (hook.event !== event) continue;
        if (hook.storeId !== null && !storeIds.has(hook.storeId)) continue;
        const store = hook.storeId !== null ? `storeID=${hook.storeId}&` : '';
        deliveries.enqueue({
          api: 'v1',
          event: hook.event,
          webhookId: hook.webhookId,
          targetUrl: hook.targetUrl,
          payload: {
            resource_url: `${ctx.resourceBaseUrl()}/fulfillments?${store}batchId=${batchId}`,
            resource_type: hook.event,
          },
        });
      }
    },
    awaitingShipment(orderId) {
      if (autoShip) autoShipQueue.push({ orderId, dueAt: now() + autoShip.delayMs });
    },
  };

  let ticking: Promise<void> | undefined;
  const tick = async (): Promise<void> => {
    state.releaseHolds();
    await runAutoShip();
    await deliveries.deliverDue();
  };
  const tickOnce = () => {
    if (ticking) return;
    ticking = tick()
      .catch((error: unknown) => {
        if (options.logger) options.logger.error({ err: error }, 'shipstation sandbox tick failed');
      })
      .finally(() => {
        ticking = undefined;
      });
  };

  const setRateHeaders = (reply: FastifyReply, v: RateLimitVerdict) => {
    reply.header('X-Rate-Limit-Limit', String(v.limit));
    reply.header('X-Rate-Limit-Remaining', String(v.remaining));
    reply.header('X-Rate-Limit-Reset', String(v.resetSeconds));
  };

  /** Sends a Fastify error in the shape of the API the request was for. */
  const sendFrameworkError = (
    reply: FastifyReply,
    api: 'v1' | 'v2' | 'sandbox',
    failure: { status: number; message: string },
  ) => {
    if (failure.status >= 500) return sendInternalError(reply, api, failure.message);
    if (api === 'sandbox') return reply.code(failure.status).send(sandboxErrorBody(failure.message));
    if (api === 'v2') {
      const text =
        failure.status === 413
          ? 'The request body is too large.'
          : failure.status === 415
            ? `${failure.message} Send application/json.`
            : failure.message;
      return reply
        .code(failure.status)
        .send(v2ErrorBody(v2Error(failure.status, 'validation', 'unspecified', text).errors));
    }
    return reply.code(failure.status).send({ Message: failure.message });
  };

  const sendInternalError = (reply: FastifyReply, api: 'v1' | 'v2' | 'sandbox', message: string) => {
    if (api === 'sandbox') return reply.code(500).send(sandboxErrorBody(message));
    if (api === 'v2')
      return reply
        .code(500)
        .send(v2ErrorBody(v2Error(500, 'system', 'unspecified', 'An unexpected error occurred.').errors));
    return reply.code(500).send(internalErrorBody(message));
  };

  const app = Fastify({
    ...(options.logger ? { loggerInstance: options.logger } : { logger: false }),
    forceCloseConnections: true,
    routerOptions: {
      caseSensitive: false,
      ignoreTrailingSlash: true,
      querystringParser: parseQueryLowerCase,
      // http.sys's default UrlSegmentMaxLength; a longer segment is its "Invalid URL" 400.
      maxParamLength: 260,
    },
    bodyLimit: 20 * 1024 * 1024,
    // Errors found before any route runs (a bad percent-encoding, an over-long segment): they
    // count against the rate limit and carry its headers like every other response (reference
    // §2, §8.2), and get the API's error shape instead of Fastify's.
    frameworkErrors: (error, request, reply) => {
      const api = apiOf(request.url);
      if (api !== 'sandbox' && !admit(request, reply, api)) return;
      const failure = frameworkError(error, request) ?? { status: 400, message: 'The request is invalid.' };
      sendFrameworkError(reply, api, failure);
    },
  });

  // Every body is kept raw, whatever its media type; the routes that read a body decide what they
  // take (JSON only: anything else is 415, see readJsonBody and readV2JsonBody).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => {
    done(null, body);
  });

  // The API's paths and methods, to answer 405 for a known path with another method.
  const routes = new RouteTable();
  app.addHook('onRoute', (route) => {
    if (apiOf(route.url) === 'sandbox') return;
    routes.add(route.method, route.url);
  });

  const unauthorizedReply = (reply: FastifyReply, api: 'v1' | 'v2') =>
    api === 'v1'
      ? reply.code(401).send(UNAUTHORIZED_BODY)
      : reply
          .code(401)
          .send(
            v2ErrorBody(
              v2Error(401, 'security', 'unauthorized', 'The API key is invalid. Check the API-Key header.')
                .errors,
            ),
          );

  const tooManyReply = (reply: FastifyReply, api: 'v1' | 'v2', resetSeconds: number) => {
    if (api === 'v1') return reply.code(429).send(TOO_MANY_REQUESTS_BODY);
    reply.header('Retry-After', String(Math.max(1, resetSeconds)));
    return reply
      .code(429)
      .send(
        v2ErrorBody(
          v2Error(
            429,
            'system',
            'rate_limit_exceeded',
            'You have exceeded the rate limit. Please see Retry-After.',
          ).errors,
        ),
      );
  };

  /**
   * Authentication and the rate limit of an API request: counts it (V1: sets the `X-Rate-Limit-*`
   * headers), and answers 401 or 429 itself. Returns the verdict, or undefined when it answered.
   */
  function admit(
    request: FastifyRequest,
    reply: FastifyReply,
    api: 'v1' | 'v2',
  ): RateLimitVerdict | undefined {
    let authorized: boolean;
    let verdict: RateLimitVerdict;
    if (api === 'v1') {
      const header = request.headers.authorization;
      const creds = readBasicAuth(header);
      authorized = creds?.key === apiKey && creds.secret === apiSecret;
      const partner = request.headers['x-partner'];
      const partnerKey = Array.isArray(partner) ? partner[0] : partner;
      const partnerLimit =
        partnerKey !== undefined && partnerKeys.has(partnerKey)
          ? (options.partnerRateLimit ?? 100)
          : undefined;
      verdict = v1Limit.take(bucketKey('v1', header ?? ''), partnerLimit);
      setRateHeaders(reply, verdict);
    } else {
      const key = request.headers['api-key'];
      const presented = Array.isArray(key) ? key[0] : key;
      authorized = presented === v2ApiKey;
      verdict = v2Limit.take(bucketKey('v2', presented ?? ''));
    }
    if (!authorized) {
      unauthorizedReply(reply, api);
      return undefined;
    }
    if (!verdict.allowed) {
      tooManyReply(reply, api, verdict.resetSeconds);
      return undefined;
    }
    return verdict;
  }

  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    const api = apiOf(request.url);
    if (api === 'sandbox') return;
    requestLog.push({ at: now(), api, method: request.method, url: request.url });
    if (requestLog.length > REQUEST_LOG_SIZE) requestLog.splice(0, requestLog.length - REQUEST_LOG_SIZE);
    const verdict = admit(request, reply, api);
    if (!verdict) return reply;
    const path = pathOf(request.url);

    const latency = faults.latencyFor(request.method, path);
    if (latency > 0) await delay(latency);
    const fault = faults.requestFault(request.method, path);
    if (!fault) return;
    if (fault.kind === 'hang') {
      // Never answered; the socket stays open until the client gives up or the sandbox closes.
      reply.hijack();
      return reply;
    }
    if (fault.kind === 'unauthorized') return unauthorizedReply(reply, api);
    if (fault.kind === 'rateLimited') return tooManyReply(reply, api, verdict.resetSeconds);
    return sendInternalError(reply, api, 'Object reference not set to an instance of an object.');
  });

  /**
   * No route took the request: 405 with ASP.NET's text when the path is known for other methods
   * (reference §1.1 lists 405), else 404. V2 gives the same statuses in its own error body.
   */
  const routeMiss = (request: FastifyRequest, reply: FastifyReply) => {
    const api = apiOf(request.url);
    if (api === 'sandbox')
      return reply.code(404).send(sandboxErrorBody(`no sandbox endpoint ${request.method} ${request.url}`));
    const allowed = routes.allowedMethods(pathOf(request.url));
    if (allowed.size > 0 && !allowed.has(request.method)) {
      const message = methodNotAllowedMessage(request.method);
      // Web API's 405 lists the path's methods in `Allow` (HEAD is Fastify's, not an action's).
      reply.header('Allow', [...allowed].filter((m) => m !== 'HEAD').join(', '));
      if (api === 'v2') {
        return reply.code(405).send(v2ErrorBody(v2Error(405, 'validation', 'unspecified', message).errors));
      }
      return reply.code(405).send({ Message: message });
    }
    if (api === 'v2') {
      return reply
        .code(404)
        .send(
          v2ErrorBody(
            v2Error(404, 'validation', 'invalid_identifier', `No resource at ${request.url}.`).errors,
          ),
        );
    }
    return reply.code(404).send({
      Message: `No HTTP resource was found that matches the request URI '${ctx.resourceBaseUrl()}${request.url}'.`,
    });
  };

  app.setErrorHandler((error, request, reply) => {
    const api = apiOf(request.url);
    if (error instanceof V1HttpError) return reply.code(error.statusCode).send(error.body);
    if (error instanceof V2HttpError) return reply.code(error.statusCode).send(v2ErrorBody(error.errors));
    if (error instanceof NoRouteError) return routeMiss(request, reply);
    const framework = frameworkError(error, request);
    if (framework) {
      if (framework.status >= 500) request.log.error({ err: error }, 'shipstation sandbox error');
      return sendFrameworkError(reply, api, framework);
    }
    const status =
      error instanceof SandboxRuleError
        ? error.statusCode
        : error instanceof SyntaxError
          ? 400
          : typeof (error as { statusCode?: unknown }).statusCode === 'number'
            ? ((error as { statusCode: number }).statusCode as number)
            : 500;
    const message = error instanceof Error ? error.message : String(error);
    if (status >= 500) request.log.error({ err: error }, 'shipstation sandbox error');
    if (api === 'sandbox') return reply.code(status).send(sandboxErrorBody(message));
    if (api === 'v2') {
      const type = status >= 500 ? 'system' : 'validation';
      return reply
        .code(status)
        .send(
          v2ErrorBody(
            v2Error(status, type, status >= 500 ? 'unspecified' : 'invalid_field_value', message).errors,
          ),
        );
    }
    if (status >= 500) return reply.code(500).send(internalErrorBody(message));
    return reply.code(status).send({ Message: message });
  });

  app.setNotFoundHandler(routeMiss);

  registerOrderRoutes(app, ctx);
  registerShipmentRoutes(app, ctx);
  registerAccountRoutes(app, ctx);
  registerWebhookRoutes(app, ctx, options.webhookSubscribeResponse ?? 'id');
  registerV2InventoryRoutes(app, inventory, () => baseUrl);
  registerV2WebhookRoutes(app, v2Webhooks);
  app.get('/jwks', async () => signer.jwks());
  registerSandboxRoutes(app, ctx, {
    faults,
    deliveries,
    random: dataRandom,
    autoShip: {
      get: () => autoShip,
      set: (value) => {
        autoShip = value;
      },
      run: runAutoShip,
    },
    tick,
    sendV2Webhook: async (url, event, payload) => {
      const d = deliveries.enqueue({
        api: 'v2',
        event,
        webhookId: 'manual',
        targetUrl: url,
        payload,
        immediate: true,
      });
      return deliveries.deliverNow(d.id);
    },
    credentials: { apiKey, apiSecret, v2ApiKey },
  });

  const host = options.host ?? '127.0.0.1';
  await app.listen({ host, port: options.port ?? 0 });
  const address = app.server.address() as AddressInfo;
  const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  baseUrl = `http://${urlHost}:${address.port}`;

  const timer =
    options.backgroundTimers === false ? undefined : setInterval(tickOnce, options.tickIntervalMs ?? 250);
  timer?.unref();

  return {
    url: baseUrl,
    apiKey,
    apiSecret,
    v2ApiKey,
    jwksUrl: `${baseUrl}/jwks`,
    state,
    inventory,
    v2Webhooks,
    faults,
    deliveries: () => deliveries.list(),
    budget: () => ({
      v1: { admitted: v1Limit.admitted, refused: v1Limit.refused },
      v2: { admitted: v2Limit.admitted, refused: v2Limit.refused },
    }),
    requests: () => [...requestLog],
    flushWebhooks: async (flushOptions) => {
      if (flushOptions?.all) deliveries.makeAllDue();
      await deliveries.flush();
      return deliveries.list();
    },
    runAutoShip,
    setAutoShip: (value) => {
      autoShip = value;
    },
    tick,
    close: async () => {
      if (timer) clearInterval(timer);
      await ticking;
      await app.close();
    },
  };
}
