/**
 * The ShipStation sandbox server: a faithful local ShipStation (API V1, API V2 for shipments,
 * labels, fulfillments, tracking, inventory and webhooks, and `/_sandbox/` controls) with seeded
 * data and fault injection, written from reference/shipstation-api.md. It shares no code with our
 * ShipStation client. Start it in-process with `startShipStationSandbox`; the CLI's
 * `ml-connector sandbox` does the same. Options and `/_sandbox/` are documented in
 * docs/sandbox-shipstation.md.
 *
 * This file only assembles: the account state, the webhook listeners (`webhook-events.ts`), the
 * request gate (`api-gate.ts`: auth, limits, faults, error shapes) and one route module per API
 * family (`v1-*.ts`, `v2-*.ts`, `sandbox-routes.ts`).
 */
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyBaseLogger } from 'fastify';
import { SeededRandom } from '../random.js';
import { ApiGate, type SandboxRequest } from './api-gate.js';
import { AutoShip } from './auto-ship.js';
import type { SandboxContext } from './context.js';
import { FaultRules, type FaultSpec } from './faults.js';
import { parseQueryLowerCase } from './list-query.js';
import type { FilterTimeRule } from './pacific-time.js';
import { FixedWindowRateLimit, type RateLimitSettings } from './rate-limit.js';
import { registerSandboxRoutes } from './sandbox-routes.js';
import { seedAccount, seedOrders } from './seed.js';
import { ShipStationState } from './state.js';
import { registerAccountRoutes } from './v1-account.js';
import { registerOrderRoutes } from './v1-orders.js';
import { registerShipmentRoutes } from './v1-shipments.js';
import { registerWebhookRoutes, type SubscribeResponseShape } from './v1-webhooks.js';
import { registerV2FulfillmentRoutes } from './v2-fulfillments.js';
import { InventoryState, registerV2InventoryRoutes } from './v2-inventory.js';
import { registerV2LabelRoutes, renderV2Label, TrackingBook } from './v2-labels.js';
import { registerV2ShipmentRoutes } from './v2-shipments.js';
import { type V2TimestampFormat, V2WebhookSigner } from './v2-signing.js';
import { registerV2WebhookRoutes, V2Webhooks } from './v2-webhooks.js';
import { DEFAULT_RETRY_DELAYS_MS, WebhookDeliveries, type WebhookDelivery } from './webhook-delivery.js';
import { combineEvents, v1WebhookEvents, v2WebhookEvents } from './webhook-events.js';

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

/** One API's budget as the sandbox counted it (every key of the account together). */
export interface BudgetCount {
  /** Requests let through. */
  admitted: number;
  /** Requests answered 429 because their key's window was used up (not injected faults). */
  refused: number;
  /** The most requests one key had admitted in one window: at most the limit. */
  mostInOneWindow: number;
}

function budgetCount(limit: FixedWindowRateLimit): BudgetCount {
  return { admitted: limit.admitted, refused: limit.refused, mostInOneWindow: limit.mostInOneWindow };
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
  budget(): { v1: BudgetCount; v2: BudgetCount };
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

export type { SandboxRequest };

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
  const ctx: SandboxContext = {
    state,
    now,
    filterTimeRule: options.filterTimeRule ?? 'widen',
    render: { userId: state.userId, defaultWarehouseId: state.defaultWarehouseId },
    resourceBaseUrl: () => (options.resourceBaseUrl ?? baseUrl).replace(/\/+$/, ''),
    lockedOrderStatusCode: options.lockedOrderStatusCode ?? 400,
  };

  const tracking = new TrackingBook();
  const labels = { ctx, tracking, baseUrl: () => baseUrl };
  const autoShip = new AutoShip(state, now, options.autoShip ?? false);
  const events = { state, deliveries, resourceBaseUrl: ctx.resourceBaseUrl };
  state.events = combineEvents(
    v1WebhookEvents(events),
    v2WebhookEvents(events, v2Webhooks, tracking),
    autoShip.events(),
  );

  let ticking: Promise<void> | undefined;
  const tick = async (): Promise<void> => {
    state.releaseHolds();
    await autoShip.run();
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

  const v1Limit = new FixedWindowRateLimit(options.rateLimit ?? { limit: 40, windowMs: 60_000 }, now);
  const v2Limit = new FixedWindowRateLimit(options.v2RateLimit ?? { limit: 200, windowMs: 60_000 }, now);
  const gate = new ApiGate({
    credentials: { apiKey, apiSecret, v2ApiKey },
    partnerKeys: new Set(options.partnerKeys ?? []),
    partnerRateLimit: options.partnerRateLimit ?? 100,
    v1Limit,
    v2Limit,
    faults,
    now,
    resourceBaseUrl: ctx.resourceBaseUrl,
  });

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
    frameworkErrors: gate.frameworkErrors,
  });

  // Every body is kept raw, whatever its media type; the routes that read a body decide what they
  // take (JSON only: anything else is 415, see readJsonBody and readV2JsonBody).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => {
    done(null, body);
  });
  gate.install(app);

  // The API families, one module each.
  registerOrderRoutes(app, ctx);
  registerShipmentRoutes(app, ctx);
  registerAccountRoutes(app, ctx);
  registerWebhookRoutes(app, ctx, options.webhookSubscribeResponse ?? 'id');
  registerV2ShipmentRoutes(app, ctx, () => baseUrl);
  registerV2LabelRoutes(app, labels);
  registerV2FulfillmentRoutes(app, ctx, () => baseUrl);
  registerV2InventoryRoutes(app, inventory, () => baseUrl);
  registerV2WebhookRoutes(app, v2Webhooks);
  app.get('/jwks', async () => signer.jwks());
  registerSandboxRoutes(app, ctx, {
    faults,
    deliveries,
    random: dataRandom,
    autoShip: {
      get: () => autoShip.get(),
      set: (value) => autoShip.set(value),
      run: () => autoShip.run(),
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
    renderV2Label: (shipment) => renderV2Label(shipment, labels),
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
      v1: budgetCount(v1Limit),
      v2: budgetCount(v2Limit),
    }),
    requests: () => gate.requests(),
    flushWebhooks: async (flushOptions) => {
      if (flushOptions?.all) deliveries.makeAllDue();
      await deliveries.flush();
      return deliveries.list();
    },
    runAutoShip: () => autoShip.run(),
    setAutoShip: (value) => autoShip.set(value),
    tick,
    close: async () => {
      if (timer) clearInterval(timer);
      await ticking;
      await app.close();
    },
  };
}
